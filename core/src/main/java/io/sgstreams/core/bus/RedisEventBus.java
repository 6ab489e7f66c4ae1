package io.sgstreams.core.bus;

import io.lettuce.core.Range;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.cluster.api.reactive.RedisClusterReactiveCommands;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.consume.ReplyPublisher;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.redis.internal.RedisErrors;
import io.sgstreams.core.redis.Redis;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.topology.Role;
import io.sgstreams.core.topology.StreamGroup;
import io.sgstreams.core.topology.StreamKeys;
import io.sgstreams.core.topology.StreamPlan;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The stream topology as a reactive API: provisions the groups a role needs, publishes envelopes
 * with capped XADD, and reports length, lag, pending and backlog risk. Consumers are built on it
 * ({@link io.sgstreams.core.consume.StreamReceiver}).
 *
 * <p>Every command touches one key, so the bus runs unchanged against a Redis Cluster once keys
 * are partitioned.
 */
public final class RedisEventBus implements ReplyPublisher, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisEventBus.class);
  /** Publishes retried on transient errors; a retry after a lost reply may duplicate an entry. */
  static final int PUBLISH_ATTEMPTS = 4;
  private static final Duration PUBLISH_FIRST_BACKOFF = Duration.ofMillis(50);
  private static final Duration PUBLISH_MAX_BACKOFF = Duration.ofSeconds(1);

  private final RedisStreams redis;
  private final boolean ownsRedis;
  private final Role role;
  private final SgConfig config;
  private final Topology topology;
  private final EnvelopeCodec codec;
  private final StreamMetrics metrics;
  private final Retention retention;
  private final HeartbeatRegistry heartbeats;
  private final io.sgstreams.core.store.Counters counters;
  private final io.sgstreams.core.store.Records records;
  private final io.sgstreams.core.store.CappedLists lists;
  private final io.sgstreams.core.store.ApiKeys apiKeys;
  private final io.sgstreams.core.consume.DeadLetterQueue deadLetterQueue;
  /** Inbound publishes wait for replicas ({@code SG_PUBLISH_REPLICAS} > 0); null otherwise. */
  private final ReplicatedWrites replicated;

  private RedisEventBus(RedisStreams redis, boolean ownsRedis, Role role, SgConfig config, StreamMetrics metrics) {
    this.redis = redis;
    this.ownsRedis = ownsRedis;
    this.role = role;
    this.config = config;
    // the "node" field of every message's log lines (one node id per process, whatever its roles)
    io.sgstreams.core.trace.LogContext.node(config.nodeId());
    this.topology = config.topology();
    this.codec = EnvelopeCodec.create(config.maxEnvelopeBytes());
    this.metrics = metrics;
    this.retention = new Retention(topology, this::streamState,
        (stream, minId) -> redis.commands().xtrim(stream, io.lettuce.core.XTrimArgs.Builder.minId(minId).approximateTrimming()),
        metrics);
    this.heartbeats = new HeartbeatRegistry(redis, topology, config.consumer().heartbeatTtl());
    this.counters = new io.sgstreams.core.store.Counters(redis);
    this.records = new io.sgstreams.core.store.Records(redis);
    this.lists = new io.sgstreams.core.store.CappedLists(redis);
    this.apiKeys = new io.sgstreams.core.store.ApiKeys(redis, topology, java.time.Clock.systemUTC());
    this.deadLetterQueue = new io.sgstreams.core.consume.DeadLetterQueue(this, java.time.Clock.systemUTC());
    int replicas = config.partitions().publishReplicas();
    this.replicated = replicas > 0 ? new ReplicatedWrites(redis, replicas) : null;
  }

  /** The DLQ stream's dead letters for operators ({@code sg dlq}): list, read, replay (guarded), delete. */
  public io.sgstreams.core.consume.DeadLetterQueue deadLetterQueue() {
    return deadLetterQueue;
  }

  /** Small capped lists with an expiry (conversation memory) under keys built with {@link io.sgstreams.core.topology.StreamKeys}. */
  public io.sgstreams.core.store.CappedLists lists() {
    return lists;
  }

  /** API keys made at run time ({@code sg keys}), stored hashed under keys the topology builds. */
  public io.sgstreams.core.store.ApiKeys apiKeys() {
    return apiKeys;
  }

  /** Window counters (rate limits) under keys the topology builds. */
  public io.sgstreams.core.store.Counters counters() {
    return counters;
  }

  /** Small expiring records (idempotency) under keys the topology builds. */
  public io.sgstreams.core.store.Records records() {
    return records;
  }

  /** The consumer-name heartbeats of this process. */
  public HeartbeatRegistry heartbeats() {
    return heartbeats;
  }

  /** On a process's shared {@link Redis} (not closed by the bus), for {@code role} on node {@code nodeId}. */
  public static RedisEventBus create(Redis redis, Role role, String nodeId, SgConfig config, MeterRegistry registry) {
    return new RedisEventBus(redis.open(), true, role, config.withNodeId(nodeId), new StreamMetrics(registry, role.wire()));
  }

  /** Opens its own client for {@code config.redisUrl()}; closed with the bus. */
  public static RedisEventBus connect(Role role, SgConfig config, MeterRegistry registry) {
    String url = config.redisUrl().orElseThrow(() -> new IllegalArgumentException("REDIS_URL is not set"));
    return new RedisEventBus(RedisStreams.connect(url), true, role, config, new StreamMetrics(registry, role.wire()));
  }

  public Role role() {
    return role;
  }

  public String nodeId() {
    return config.nodeId();
  }

  /** Stable per process, so a restarted pod finds its own pending entries: {@code {role}-{node_id}}. */
  public String consumerName() {
    return consumerName(role);
  }

  /** The consumer name this node uses when it acts as {@code r} (standalone runs several roles). */
  public String consumerName(Role r) {
    return StreamKeys.requireSegment(r.wire() + "-" + config.nodeId());
  }

  public SgConfig config() {
    return config;
  }

  public Topology topology() {
    return topology;
  }

  public EnvelopeCodec codec() {
    return codec;
  }

  public StreamMetrics metrics() {
    return metrics;
  }

  /**
   * The bus's Lettuce connections, for core's own parts (the consumer engine) and for tests that
   * inspect Redis. Not for node code: nodes use the typed services ({@link #records()},
   * {@link #counters()}, {@link #range}, {@link io.sgstreams.core.consume.StreamTail}, …); an
   * architecture test keeps every module but core free of Lettuce.
   */
  public RedisStreams connections() {
    return redis;
  }

  /** How long one Redis command may take before it fails. */
  public Duration commandTimeout() {
    return redis.commandTimeout();
  }

  // ---------------------------------------------------------------- provisioning

  /**
   * The groups this role provisions ({@link StreamPlan}).
   *
   * @param deliveredPlatforms platforms this node delivers through a group (a gateway with a
   *     webhook URL: {@code webhook}); others are tailed without a group
   */
  public List<StreamGroup> groups(Collection<String> deliveredPlatforms) {
    return StreamPlan.groupsFor(role, topology, deliveredPlatforms);
  }

  /**
   * Creates the consumer groups this role needs ({@code XGROUP CREATE … 0 MKSTREAM}); a group
   * that exists is left as it is. New groups start at {@code 0} so that entries published
   * before the first consumer started are read, not skipped.
   */
  public Mono<List<StreamGroup>> ensureStreams(Collection<String> deliveredPlatforms) {
    List<StreamGroup> groups = groups(deliveredPlatforms);
    return checkPartitions()
        .then(Flux.fromIterable(groups).concatMap(g -> ensureGroup(g.stream(), g.group())).then(Mono.just(groups)));
  }

  /**
   * Records this deployment's partition count in Redis ({@link Topology#partitionsKey}, {@code SET NX})
   * or checks it against the one recorded: a node configured with another count would publish
   * conversations to other keys than the running nodes read, so it fails with a
   * {@link PartitionCountMismatchException} instead. The count the deployment runs with.
   */
  public Mono<Integer> checkPartitions() {
    String key = topology.partitionsKey();
    int mine = topology.partitions();
    byte[] value = Integer.toString(mine).getBytes(StandardCharsets.UTF_8);
    return Mono.fromCompletionStage(() -> redis.async().setnx(key, value))
        .flatMap(set -> set ? Mono.just(mine)
            : Mono.fromCompletionStage(() -> redis.async().get(key)).map(b -> {
              String stored = new String(b, StandardCharsets.UTF_8).trim();
              int theirs;
              try {
                theirs = Integer.parseInt(stored);
              } catch (NumberFormatException e) {
                throw new PartitionCountMismatchException(key, stored, mine);
              }
              if (theirs != mine) {
                throw new PartitionCountMismatchException(key, stored, mine);
              }
              return mine;
            }).defaultIfEmpty(mine))
        .flatMap(p -> role.includes(Role.WORKER) ? checkAssignment().thenReturn(p) : Mono.just(p));
  }

  /**
   * Workers of one deployment share partitions one way: a worker reading every partition without a
   * lease ({@code shared}) beside leasing ones would break their order, and so would a worker without
   * tickets beside {@code channel-lock} ones. The first worker records the assignment
   * ({@link Topology#assignmentKey}: {@code lease}, {@code shared} or {@code channel-lock}) when
   * {@code P > 1} or with channel-lock; a worker configured otherwise refuses to start. (With one
   * partition and local ordering nothing is recorded, only checked.)
   */
  private Mono<Void> checkAssignment() {
    String key = topology.assignmentKey(topology.workerGroup());
    var pc = config.partitions();
    String mine = pc.leased() ? "lease" : pc.channelLock() ? "channel-lock" : "shared";
    byte[] value = mine.getBytes(StandardCharsets.UTF_8);
    boolean record = topology.partitioned() || pc.channelLock();
    Mono<Boolean> recorded = record ? Mono.fromCompletionStage(() -> redis.async().setnx(key, value)) : Mono.just(false);
    return recorded
        .flatMap(set -> set ? Mono.<Void>empty()
            : Mono.fromCompletionStage(() -> redis.async().get(key)).flatMap(b -> {
              String stored = new String(b, StandardCharsets.UTF_8).trim();
              return stored.equals(mine) ? Mono.<Void>empty() : Mono.<Void>error(new IllegalStateException(
                  "this deployment's workers share partitions by " + stored + " (Redis key " + key + "), but this worker "
                      + "is configured for " + mine + " (" + describe(mine) + "); mixing them breaks per-conversation "
                      + "order. Set " + describe(stored) + ", or stop every worker, DEL " + key
                      + " and start them all with the new setting"));
            }));
  }

  private static String describe(String assignment) {
    return switch (assignment) {
      case "channel-lock" -> "SG_PARTITION_ASSIGNMENT=shared and SG_ORDERING=channel-lock";
      case "lease" -> "SG_PARTITION_ASSIGNMENT=lease";
      default -> "SG_PARTITION_ASSIGNMENT=shared and SG_ORDERING=local";
    };
  }

  /** Creates one group at {@code 0} with MKSTREAM; true if it was created, false if it existed. */
  public Mono<Boolean> ensureGroup(String stream, String group) {
    return redis.commands()
        .xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), group, XGroupCreateArgs.Builder.mkstream())
        .map(ok -> {
          log.info("created consumer group {} on {}", group, stream);
          return true;
        })
        .onErrorResume(e -> e.getMessage() != null && e.getMessage().startsWith("BUSYGROUP"), e -> Mono.just(false))
        .onErrorMap(e -> !(e instanceof StreamException),
            e -> new StreamException("cannot create consumer group: " + e.getMessage(), stream, group, null, null, e));
  }

  // ---------------------------------------------------------------- publishing

  /** Adds {@code env} to the inbound stream of its conversation's partition ({@link Topology#partitionOf}). */
  public Mono<String> publishInbound(InboundEnvelope env) {
    if (replicated != null) {
      // SG_PUBLISH_REPLICAS: answered only once that many replicas have it (ReplicatedWrites)
      return Mono.defer(() -> {
        String stream = inboundStreamFor(env);
        byte[] data = codec.encode(env);
        Map<String, byte[]> fields = StreamFields.envelope(data, System.currentTimeMillis(), StreamFields.traceIdFrom(env.headers()));
        Retention.Tracked t = retention.known(stream);
        return t != null ? add(t, stream, fields, null, true)
            : retention.forStream(stream).flatMap(x -> add(x, stream, fields, null, true));
      });
    }
    return Mono.defer(() -> publish(inboundStreamFor(env), env));
  }

  /** Adds {@code env} to {@code platform}'s outbound stream of its conversation's partition. */
  public Mono<String> publishOutbound(String platform, OutboundEnvelope env) {
    return Mono.defer(() -> publish(topology.outboundStream(platform, partitionOf(env)), env));
  }

  /** The inbound stream (partition) an inbound envelope goes to. */
  public String inboundStreamFor(Envelope env) {
    return topology.inboundStream(partitionOf(env));
  }

  /** The partition of an envelope's conversation (tenant_id, platform, channel_id); 0 when {@code P = 1}. */
  public int partitionOf(Envelope env) {
    if (!topology.partitioned()) {
      return 0;
    }
    if (env.platform() == null || env.channelId() == null) {
      throw new IllegalArgumentException("a " + env.kind().wire() + " envelope without platform and channel_id has no partition");
    }
    return topology.partitionOf(env.tenantId(), env.platform(), env.channelId());
  }

  public Mono<String> publishToolsRequest(ToolRequest env) {
    return publish(topology.toolsStream(), env);
  }

  public Mono<String> publishToolsReply(String replyStream, ToolReply env) {
    return publish(replyStream, env);
  }

  /**
   * Encodes {@code env} and adds it to {@code stream}, trimmed by the stream's policy
   * ({@link TrimPlan}); the entry id. Fails with the codec's typed error for an envelope over the
   * size limit and with {@link BacklogFullException} when a work stream's unfinished backlog is at
   * its cap (nothing is sent in either case), and with a {@link StreamException} once transient
   * errors outlast the retries.
   */
  public Mono<String> publish(String stream, Envelope env) {
    return Mono.defer(() -> {
      byte[] data = codec.encode(env);
      return publishFields(stream, StreamFields.envelope(data, System.currentTimeMillis(), StreamFields.traceIdFrom(env.headers())));
    });
  }

  /** Publishes a handler's reply to its stream ({@link Reply#stream()}, else where its kind goes). */
  @Override
  public Mono<String> publish(Reply reply) {
    return Mono.defer(() -> publish(streamFor(reply), reply.envelope()));
  }

  /**
   * Where a reply goes: its own stream, else outbound to its platform (the partition of its
   * conversation), a tool request to the tools stream, inbound to the inbound stream of its
   * conversation's partition.
   */
  public String streamFor(Reply r) {
    return streamFor(r, -1);
  }

  /**
   * As {@link #streamFor(Reply)}, but an outbound or inbound reply without its own stream goes to
   * {@code partition} when it is not negative: a worker answers on the partition (hash tag, so the
   * same Redis Cluster master) of the inbound entry it handled.
   */
  public String streamFor(Reply r, int partition) {
    if (r.stream() != null) {
      return r.stream();
    }
    Envelope e = r.envelope();
    if (e instanceof OutboundEnvelope o) {
      return topology.outboundStream(o.platform(), partition >= 0 ? partition : partitionOf(o));
    }
    if (e instanceof ToolRequest) {
      return topology.toolsStream();
    }
    if (e instanceof InboundEnvelope) {
      return topology.inboundStream(partition >= 0 ? partition : partitionOf(e));
    }
    throw new IllegalArgumentException("a " + e.kind().wire() + " reply needs an explicit stream");
  }

  /**
   * As {@link #publish(String, Envelope)}, only while {@code fence}'s lease is held: the XADD runs in a
   * script that first checks the lease token (the lease key and {@code stream} share a hash tag), and
   * fails with {@link io.sgstreams.core.consume.Fence#FENCED} otherwise, publishing nothing.
   */
  public Mono<String> publishFenced(String stream, Envelope env, io.sgstreams.core.consume.Fence fence) {
    return Mono.defer(() -> {
      byte[] data = codec.encode(env);
      return publishFields(stream, StreamFields.envelope(data, System.currentTimeMillis(), StreamFields.traceIdFrom(env.headers())), fence);
    });
  }

  /** Adds raw fields (used for dead letters and replays, whose {@code data} must stay byte-exact). */
  public Mono<String> publishFields(String stream, Map<String, byte[]> fields) {
    return publishFields(stream, fields, null);
  }

  private Mono<String> publishFields(String stream, Map<String, byte[]> fields, io.sgstreams.core.consume.Fence fence) {
    Retention.Tracked t = retention.known(stream);
    if (t != null) {
      return add(t, stream, fields, fence, false);
    }
    return retention.forStream(stream).flatMap(x -> add(x, stream, fields, fence, false));
  }

  private static final io.sgstreams.core.redis.internal.RedisScript FENCED_XADD = new io.sgstreams.core.redis.internal.RedisScript(
      "fenced-xadd", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
      end
      local n = tonumber(ARGV[2])
      local args = {KEYS[2]}
      for i = 3, 2 + n do args[#args + 1] = ARGV[i] end
      args[#args + 1] = '*'
      for i = 3 + n, #ARGV do args[#args + 1] = ARGV[i] end
      return redis.call('XADD', unpack(args))
      """, io.lettuce.core.ScriptOutputType.VALUE);

  private static final io.sgstreams.core.redis.internal.RedisScript FENCED_REPLY_ACK = new io.sgstreams.core.redis.internal.RedisScript(
      "fenced-reply-ack", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
      end
      local n = tonumber(ARGV[4])
      local args = {KEYS[2]}
      for i = 5, 4 + n do args[#args + 1] = ARGV[i] end
      args[#args + 1] = '*'
      for i = 5 + n, #ARGV do args[#args + 1] = ARGV[i] end
      local id = redis.call('XADD', unpack(args))
      redis.call('XACK', KEYS[3], ARGV[2], ARGV[3])
      return id
      """, io.lettuce.core.ScriptOutputType.VALUE);

  /**
   * Adds {@code env} to {@code stream} and acknowledges entry {@code id} of {@code ackStream} for
   * {@code group}, in one script that first checks {@code fence}'s lease: all three keys share the
   * partition's hash tag (one slot). Either the reply is written and the entry acknowledged, or
   * neither (a {@link io.sgstreams.core.consume.Fence#FENCED} error once the lease is gone). The
   * reply's entry id. Not retried (a retry after a lost reply could write it twice): a failure
   * leaves the entry pending for redelivery.
   */
  public Mono<String> publishAndAck(String stream, Envelope env, io.sgstreams.core.consume.Fence fence,
      String ackStream, String group, String id) {
    return Mono.defer(() -> {
      byte[] data = codec.encode(env);
      Map<String, byte[]> fields = StreamFields.envelope(data, System.currentTimeMillis(), StreamFields.traceIdFrom(env.headers()));
      return publishFieldsAndAck(stream, fields, fence, ackStream, group, id);
    });
  }

  /**
   * A leased partition's reply writer: {@link #publishAndAck}'s promise (reply and ack in one fenced
   * script), group-committed over the replies that arrive while one script is in flight. One per lease.
   */
  public ReplyAcks fencedReplies(io.sgstreams.core.consume.Fence fence) {
    FencedReplies r = new FencedReplies(this, fence);
    return (stream, env, ackStream, group, id) -> Mono.defer(() -> {
      byte[] data = codec.encode(env);
      Map<String, byte[]> fields = StreamFields.envelope(data, System.currentTimeMillis(), StreamFields.traceIdFrom(env.headers()));
      Retention.Tracked known = retention.known(stream);
      Mono<Retention.Tracked> tracked = known != null ? Mono.just(known) : retention.forStream(stream);
      return tracked.flatMap(t -> r.submit(t, stream, fields, ackStream, group, id));
    });
  }

  /** Writes a reply and acknowledges the entry it answers, together ({@link #fencedReplies}). */
  @FunctionalInterface
  public interface ReplyAcks {
    Mono<String> publishAndAck(String stream, Envelope env, String ackStream, String group, String id);
  }

  /**
   * As {@link #publishAndAck} with raw fields: a dead letter (its {@code data} byte-exact) written to
   * the partition's DLQ and the entry acknowledged in one lease-fenced script, so a dead letter is
   * never written twice by a worker that stalled and lost the partition in between.
   */
  public Mono<String> publishFieldsAndAck(String stream, Map<String, byte[]> fields, io.sgstreams.core.consume.Fence fence,
      String ackStream, String group, String id) {
    return Mono.defer(() -> {
      Retention.Tracked known = retention.known(stream);
      Mono<Retention.Tracked> tracked = known != null ? Mono.just(known) : retention.forStream(stream);
      return tracked.flatMap(t -> {
        List<String> trim = t.plan == null ? List.of() : t.plan.trimWords();
        byte[][] argv = new byte[4 + trim.size() + fields.size() * 2][];
        int i = 0;
        argv[i++] = fence.token().getBytes(StandardCharsets.UTF_8);
        argv[i++] = group.getBytes(StandardCharsets.UTF_8);
        argv[i++] = id.getBytes(StandardCharsets.UTF_8);
        argv[i++] = Integer.toString(trim.size()).getBytes(StandardCharsets.UTF_8);
        for (String w : trim) {
          argv[i++] = w.getBytes(StandardCharsets.UTF_8);
        }
        for (Map.Entry<String, byte[]> f : fields.entrySet()) {
          argv[i++] = f.getKey().getBytes(StandardCharsets.UTF_8);
          argv[i++] = f.getValue();
        }
        return FENCED_REPLY_ACK.<byte[]>run(redis, new String[] {fence.leaseKey(), stream, ackStream}, argv)
            .map(b -> new String(b, StandardCharsets.UTF_8))
            .doOnNext(x -> t.published())
            .onErrorMap(e -> {
              metrics.publishFailed(stream);
              return new StreamException("publish failed: " + e.getMessage(), stream, null, null, null, e);
            });
      });
    });
  }

  private Mono<String> xadd(Retention.Tracked t, String stream, Map<String, byte[]> fields, io.sgstreams.core.consume.Fence fence) {
    if (fence == null) {
      if (fields instanceof StreamFields.Envelope e) {
        return Mono.fromCompletionStage(redis.async().dispatch(io.lettuce.core.protocol.CommandType.XADD,
            new io.sgstreams.core.redis.internal.StreamIdOutput(), new XaddArgs(stream, t.trimBytes, e)));
      }
      return Mono.fromCompletionStage(redis.async().xadd(stream, t.args, fields));
    }
    List<String> trim = t.plan == null ? List.of() : t.plan.trimWords();
    byte[][] argv = new byte[2 + trim.size() + fields.size() * 2][];
    int i = 0;
    argv[i++] = fence.token().getBytes(StandardCharsets.UTF_8);
    argv[i++] = Integer.toString(trim.size()).getBytes(StandardCharsets.UTF_8);
    for (String w : trim) {
      argv[i++] = w.getBytes(StandardCharsets.UTF_8);
    }
    for (Map.Entry<String, byte[]> f : fields.entrySet()) {
      argv[i++] = f.getKey().getBytes(StandardCharsets.UTF_8);
      argv[i++] = f.getValue();
    }
    return FENCED_XADD.<byte[]>run(redis, new String[] {fence.leaseKey(), stream}, argv)
        .map(b -> new String(b, StandardCharsets.UTF_8));
  }

  private Mono<String> add(Retention.Tracked t, String stream, Map<String, byte[]> fields, io.sgstreams.core.consume.Fence fence,
      boolean waitForReplicas) {
    BacklogFullException refused = t.refusal();
    if (refused != null) {
      metrics.refused(stream);
      return Mono.error(refused);
    }
    return RedisErrors.withRetries(() -> waitForReplicas ? replicated.xadd(stream, t.args, fields) : xadd(t, stream, fields, fence),
            PUBLISH_ATTEMPTS, PUBLISH_FIRST_BACKOFF, PUBLISH_MAX_BACKOFF)
        .doOnNext(id -> t.published())
        .onErrorMap(e -> {
          metrics.publishFailed(stream);
          return e instanceof ReplicationTimeoutException ? e : new StreamException("publish failed: " + e.getMessage(), stream, null, null, null, e);
        });
  }

  /**
   * Reads {@code stream} now and returns how it is trimmed and whether publishing to it is
   * refused (the backlog and headroom figures the monitor reports).
   */
  public Mono<TrimPlan> retention(String stream) {
    return retention.refresh(stream);
  }

  /** Entries this node may still add to {@code stream} before publishing is refused, from its last reading. */
  public long headroom(String stream) {
    Retention.Tracked t = retention.known(stream);
    return t == null ? Long.MAX_VALUE : t.plan.headroom(t.sinceReading.get());
  }

  // ---------------------------------------------------------------- monitoring

  /**
   * Deletes whole streams (one key per command, so it works on a cluster): for benchmarks and
   * tests that own their namespace. Never call it on a deployment's streams.
   */
  public Mono<Long> deleteStreams(Collection<String> streams) {
    return Flux.fromIterable(streams).concatMap(s -> redis.commands().del(s)).reduce(0L, Long::sum);
  }

  /**
   * Redis's own CPU time so far ({@code used_cpu_sys + used_cpu_user} from {@code INFO cpu}), in
   * seconds; on a cluster, the sum over its masters.
   */
  public Mono<Double> serverCpuSeconds() {
    return redis.onEachMaster(c -> c.info("cpu")).map(info -> {
      double cpu = 0;
      for (String l : info.split("\r?\n")) {
        if (l.startsWith("used_cpu_sys:") || l.startsWith("used_cpu_user:")) {
          cpu += Double.parseDouble(l.substring(l.indexOf(':') + 1).trim());
        }
      }
      return cpu;
    }).reduce(0.0, Double::sum);
  }

  /**
   * How many times each master ran {@code command} so far ({@code INFO commandstats}, e.g. {@code xadd}),
   * keyed {@code host:port}: one entry on a single Redis, one per shard on a cluster (how evenly the
   * partitions spread the writes).
   */
  public Mono<Map<String, Long>> commandCallsPerShard(String command) {
    String prefix = "cmdstat_" + command.toLowerCase(java.util.Locale.ROOT) + ":calls=";
    return Flux.fromIterable(redis.masters())
        .concatMap(m -> redis.onMaster(m.nodeId(), c -> c.info("commandstats")).next()
            .map(info -> {
              long calls = 0;
              for (String l : info.split("\r?\n")) {
                if (l.startsWith(prefix)) {
                  int end = l.indexOf(',');
                  calls = Long.parseLong(l.substring(prefix.length(), end < 0 ? l.length() : end));
                }
              }
              return Map.entry(m.host() + ":" + m.port(), calls);
            }))
        .collectMap(Map.Entry::getKey, Map.Entry::getValue, java.util.TreeMap::new);
  }

  /** Whether this bus runs against a Redis Cluster. */
  public boolean clustered() {
    return redis.isCluster();
  }

  /** True when Redis answers PING within the command timeout (readiness). */
  public Mono<Boolean> ping() {
    return redis.commands().ping().map("PONG"::equals).onErrorReturn(false);
  }

  /** XINFO STREAM + XINFO GROUPS for {@code stream}. */
  public Mono<StreamInfo> streamInfo(String stream) {
    RedisClusterReactiveCommands<String, byte[]> c = redis.commands();
    Mono<Map<String, Object>> info = c.xinfoStream(stream).collectList().map(RedisEventBus::pairs);
    Mono<List<GroupInfo>> groups = c.xinfoGroups(stream)
        .map(o -> toGroupInfo(pairs(asList(o))))
        .collectList();
    return Mono.zip(info, groups)
        .map(t -> new StreamInfo(stream,
            asLong(t.getT1().get("length")),
            entryId(t.getT1().get("first-entry")),
            asString(t.getT1().get("last-generated-id")),
            t.getT2()))
        .onErrorMap(e -> new StreamException("XINFO failed: " + e.getMessage(), stream, null, null, null, e));
  }

  /** Entries delivered to {@code group} and not acknowledged. */
  public Mono<Long> pendingCount(String stream, String group) {
    return redis.commands().xpending(stream, group)
        .map(s -> s.getCount())
        .onErrorMap(e -> new StreamException("XPENDING failed: " + e.getMessage(), stream, group, null, null, e));
  }

  /** Entries not yet delivered to {@code group}; empty when Redis reports the lag as unknown (nil). */
  public Mono<OptionalLong> groupLag(String stream, String group) {
    return group(stream, group).map(GroupInfo::lag);
  }

  /**
   * One reading of {@code stream}: XINFO GROUPS, XLEN, and each group's oldest pending entry
   * ({@code XPENDING … - + 1}). A missing key reads as an empty stream without groups.
   */
  public Mono<StreamState> streamState(String stream) {
    RedisClusterReactiveCommands<String, byte[]> c = redis.commands();
    return Mono.defer(() -> {
      long now = System.currentTimeMillis();
      return c.xinfoGroups(stream)
          .map(o -> toGroupInfo(pairs(asList(o))))
          .collectList()
          .flatMap(groups -> c.xlen(stream).flatMap(len -> Flux.fromIterable(groups)
              .filter(g -> g.pending() > 0)
              .concatMap(g -> c.xpending(stream, g.name(), Range.create("-", "+"), io.lettuce.core.Limit.from(1))
                  .next()
                  .map(pm -> Map.entry(g.name(), pm.getId())))
              .collectMap(Map.Entry::getKey, Map.Entry::getValue)
              .map(oldest -> new StreamState(stream, true, len, groups, oldest, now))))
          .onErrorResume(e -> e.getMessage() != null && e.getMessage().contains("no such key"),
              e -> Mono.just(StreamState.missing(stream, now)));
    }).onErrorMap(e -> !(e instanceof StreamException),
        e -> new StreamException("reading stream state failed: " + e.getMessage(), stream, null, null, null, e));
  }

  /** The pending entries of {@code consumer} in the id range [{@code from}, {@code to}], at most {@code count}. */
  public Flux<PendingEntry> pendingRange(String stream, String group, String consumer, String from, String to, long count) {
    return redis.commands().xpending(stream, io.lettuce.core.Consumer.from(group, consumer),
            Range.create(from, to), io.lettuce.core.Limit.from(count))
        .map(p -> new PendingEntry(p.getId(), p.getConsumer(), p.getMsSinceLastDelivery(), p.getRedeliveryCount()));
  }

  /** One consumer of a group as XINFO CONSUMERS reports it: its pending entries and how long since it last read or claimed. */
  public record ConsumerInfo(String name, long pending, long idleMillis) {}

  /** The consumers of {@code group} on {@code stream} (XINFO CONSUMERS); empty when the stream or group is missing. */
  public Mono<List<ConsumerInfo>> consumers(String stream, String group) {
    return redis.commands().xinfoConsumers(stream, group)
        .map(o -> pairs(asList(o)))
        .map(m -> new ConsumerInfo(asString(m.get("name")), asLong(m.get("pending")), asLong(m.get("idle"))))
        .collectList()
        .onErrorResume(e -> isNoGroupOrKey(e), e -> Mono.just(List.of()));
  }

  /** The group's {@code count} oldest pending entries, with their delivery counts (XPENDING stream group - + count). */
  public Flux<PendingEntry> oldestPending(String stream, String group, long count) {
    return redis.commands().xpending(stream, group, Range.create("-", "+"), io.lettuce.core.Limit.from(count))
        .map(p -> new PendingEntry(p.getId(), p.getConsumer(), p.getMsSinceLastDelivery(), p.getRedeliveryCount()))
        .onErrorResume(e -> isNoGroupOrKey(e), e -> Flux.empty());
  }

  /**
   * Stream keys whose names start with {@code prefix} (SCAN MATCH … TYPE stream, at most {@code limit}):
   * the per-worker reply streams in use. On a cluster, every master is scanned (Lettuce's cluster
   * SCAN goes from one master's keys to the next).
   */
  public Flux<String> scanStreams(String prefix, int limit) {
    io.lettuce.core.ScanArgs args = io.lettuce.core.ScanArgs.Builder.matches(escapeGlob(prefix) + "*").limit(500);
    return io.lettuce.core.ScanStream.scan(redis.commands(), args)
        .distinct()
        .filterWhen(k -> redis.commands().type(k).map("stream"::equals))
        .take(limit);
  }

  private static String escapeGlob(String s) {
    return s.replaceAll("([*?\\[\\]\\\\])", "\\\\$1");
  }

  private static boolean isNoGroupOrKey(Throwable e) {
    String m = String.valueOf(e.getMessage());
    return m.contains("NOGROUP") || m.contains("no such key") || m.contains("ERR no such");
  }

  /** Up to {@code count} entries of {@code stream} after {@code afterId} (exclusive), in order: one page of history. */
  public Mono<List<StreamEntry>> range(String stream, String afterId, int count) {
    return redis.commands()
        .xrange(stream, Range.from(Range.Boundary.excluding(afterId), Range.Boundary.unbounded()), io.lettuce.core.Limit.from(count))
        .map(m -> new StreamEntry(stream, m.getId(), m.getBody()))
        .collectList();
  }

  /** The id of the oldest entry still in {@code stream}; empty when the stream is empty or missing. */
  public Mono<String> firstEntryId(String stream) {
    return redis.commands().xrange(stream, Range.create("-", "+"), io.lettuce.core.Limit.from(1))
        .next()
        .map(m -> m.getId());
  }

  /** The id of the last entry ever added to {@code stream} ({@code 0-0} for a new or missing stream). */
  public Mono<String> lastGeneratedId(String stream) {
    return streamInfo(stream)
        .map(i -> i.lastGeneratedId() == null ? "0-0" : i.lastGeneratedId())
        .onErrorResume(e -> e.getMessage() != null && e.getMessage().contains("no such key"), e -> Mono.just("0-0"));
  }

  /** Sets {@code stream} to expire after {@code ttl} (refreshed by its owner while it lives). */
  public Mono<Boolean> expire(String stream, Duration ttl) {
    return redis.commands().pexpire(stream, ttl.toMillis());
  }

  /** Sets an expiry only if {@code stream} has none ({@code PEXPIRE … NX}): never shortens its owner's. */
  public Mono<Boolean> expireIfUnset(String stream, Duration ttl) {
    return redis.commands().pexpire(stream, ttl.toMillis(), io.lettuce.core.ExpireArgs.Builder.nx());
  }

  private Mono<GroupInfo> group(String stream, String group) {
    return redis.commands().xinfoGroups(stream)
        .map(o -> toGroupInfo(pairs(asList(o))))
        .filter(g -> g.name().equals(group))
        .next()
        .switchIfEmpty(Mono.error(() -> new StreamException("no such group", stream, group, null, null, null)))
        .onErrorMap(e -> !(e instanceof StreamException),
            e -> new StreamException("XINFO GROUPS failed: " + e.getMessage(), stream, group, null, null, e));
  }

  private static GroupInfo toGroupInfo(Map<String, Object> m) {
    return new GroupInfo(
        asString(m.get("name")),
        asLong(m.get("consumers")),
        asLong(m.get("pending")),
        asString(m.get("last-delivered-id")),
        optionalLong(m.get("entries-read")),
        optionalLong(m.get("lag")));
  }

  private static List<?> asList(Object o) {
    return o instanceof List<?> l ? l : List.of();
  }

  private static Map<String, Object> pairs(List<?> flat) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < flat.size(); i += 2) {
      m.put(asString(flat.get(i)), flat.get(i + 1));
    }
    return m;
  }

  private static String asString(Object o) {
    if (o == null) return null;
    if (o instanceof byte[] b) return new String(b, StandardCharsets.UTF_8);
    if (o instanceof java.nio.ByteBuffer bb) return StandardCharsets.UTF_8.decode(bb.duplicate()).toString();
    return o.toString();
  }

  private static long asLong(Object o) {
    OptionalLong v = optionalLong(o);
    return v.isPresent() ? v.getAsLong() : 0;
  }

  private static OptionalLong optionalLong(Object o) {
    if (o instanceof Number n) return OptionalLong.of(n.longValue());
    String s = asString(o);
    if (s == null || s.isEmpty()) return OptionalLong.empty();
    try {
      return OptionalLong.of(Long.parseLong(s));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }

  private static String entryId(Object firstEntry) {
    if (firstEntry instanceof List<?> l && !l.isEmpty()) {
      return asString(l.get(0));
    }
    return null;
  }

  @Override
  public void close() {
    if (replicated != null) {
      replicated.close();
    }
    if (ownsRedis) {
      redis.close();
    }
  }
}
