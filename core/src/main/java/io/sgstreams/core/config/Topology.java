package io.sgstreams.core.config;

import io.sgstreams.core.partition.PartitionedKeys;
import io.sgstreams.core.partition.Partitioner;
import io.sgstreams.core.partition.SlotTags;
import io.sgstreams.core.topology.StreamKeys;
import io.sgstreams.core.topology.StreamPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * Stream and group names (the wire contract's defaults, overridable), stream caps, the platforms
 * this deployment serves and how long a tool reply stream outlives its worker
 * ({@code streams.*} and {@code groups.*} of {@code streams.yaml}). Every key is derived through
 * {@link StreamKeys}.
 *
 * @param toolsReplyTtl expiry of a worker's tool reply stream: the worker sets it and refreshes
 *     it every tenth while it lives; the tools node gives it to a reply stream that has none
 * @param keysPrefix where stored API keys live ({@code sg keys}): {@link #apiKeyRecord}, {@link #apiKeyIndex}
 * @param partitions {@code partitions.count} ({@code SG_PARTITIONS}): with {@code P > 1} the inbound stream, every
 *     outbound stream and the DLQ are {@code P} keys each, {@code name:{tag}} ({@link PartitionedKeys}); with 1 every
 *     name is the configured one
 */
public record Topology(
    String inboundStream,
    String workerGroup,
    String outboundStreamPrefix,
    String gatewayGroupPrefix,
    String toolsStream,
    String toolsGroup,
    String toolsReplyPrefix,
    String dlqStream,
    String heartbeatPrefix,
    long maxLen,
    long dlqMaxLen,
    List<String> platforms,
    Duration toolsReplyTtl,
    String keysPrefix,
    int partitions) {

  /**
   * The platform whose replies a gateway pushes to a URL. Its outbound stream is read through
   * the group {@code gatewayGroup("webhook")} (so exactly one gateway delivers each reply) when
   * a gateway has a webhook URL; every other platform's outbound stream is only tailed (XREAD).
   */
  public static final String WEBHOOK_PLATFORM = "webhook";

  /** XADD caps below this are raised to it (wire contract). */
  public static final long MIN_MAXLEN = 1000;

  public Topology {
    requireName("inbound stream", inboundStream);
    requireName("worker group", workerGroup);
    requireName("outbound stream prefix", outboundStreamPrefix);
    requireName("gateway group prefix", gatewayGroupPrefix);
    requireName("tools stream", toolsStream);
    requireName("tools group", toolsGroup);
    requireName("tools reply prefix", toolsReplyPrefix);
    requireName("dlq stream", dlqStream);
    requireName("heartbeat prefix", heartbeatPrefix);
    requireName("keys prefix", keysPrefix);
    maxLen = Math.max(MIN_MAXLEN, maxLen);
    dlqMaxLen = Math.max(MIN_MAXLEN, dlqMaxLen);
    platforms = List.copyOf(platforms);
    platforms.forEach(StreamKeys::requireSegment);
    if (toolsReplyTtl == null || toolsReplyTtl.isNegative() || toolsReplyTtl.isZero()) {
      throw new IllegalArgumentException("tools reply TTL must be positive, got " + toolsReplyTtl);
    }
    SlotTags.requirePartitions(partitions);
  }

  /** Topology without partitions ({@code P = 1}). */
  public Topology(String inboundStream, String workerGroup, String outboundStreamPrefix, String gatewayGroupPrefix,
      String toolsStream, String toolsGroup, String toolsReplyPrefix, String dlqStream, String heartbeatPrefix,
      long maxLen, long dlqMaxLen, List<String> platforms, Duration toolsReplyTtl, String keysPrefix) {
    this(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream, toolsGroup,
        toolsReplyPrefix, dlqStream, heartbeatPrefix, maxLen, dlqMaxLen, platforms, toolsReplyTtl, keysPrefix, 1);
  }

  // ---------------------------------------------------------------- partitions

  /** The partitioned key names of this topology (every name of a partitioned stream comes from here). */
  public PartitionedKeys keys() {
    return PartitionedKeys.of(this);
  }

  /** Whether streams are partitioned ({@code P > 1}). */
  public boolean partitioned() {
    return partitions > 1;
  }

  /** The partition of a conversation ({@link Partitioner}); 0 when {@code P = 1}. */
  public int partitionOf(String tenantId, String platform, String channelId) {
    return partitions == 1 ? 0 : new Partitioner(partitions).partitionOf(tenantId, platform, channelId);
  }

  /** Partition {@code i}'s inbound stream: {@code sg:stream:inbound:{t}} ({@link #inboundStream()} when {@code P = 1}). */
  public String inboundStream(int partition) {
    return keys().inboundStream(partition);
  }

  /** Every partition's inbound stream, partition 0 first. */
  public List<String> inboundStreams() {
    return keys().inboundStreams();
  }

  /** Partition {@code i}'s outbound stream of {@code platform}. */
  public String outboundStream(String platform, int partition) {
    return keys().outboundStream(platform, partition);
  }

  /** Every partition's outbound stream of {@code platform}, partition 0 first. */
  public List<String> outboundStreams(String platform) {
    List<String> out = new java.util.ArrayList<>(partitions);
    for (int i = 0; i < partitions; i++) {
      out.add(outboundStream(platform, i));
    }
    return List.copyOf(out);
  }

  /** Partition {@code i}'s DLQ stream. */
  public String dlqStream(int partition) {
    return keys().dlqStream(partition);
  }

  /** Every partition's DLQ stream, partition 0 first. */
  public List<String> dlqStreams() {
    List<String> out = new java.util.ArrayList<>(partitions);
    for (int i = 0; i < partitions; i++) {
      out.add(dlqStream(i));
    }
    return List.copyOf(out);
  }

  /**
   * The partition a stream name of this topology belongs to (by its {@code :{tag}} suffix); 0 when
   * {@code P = 1}; -1 for a name without a partition tag (tools streams, a foreign name).
   */
  public int partitionOfStream(String stream) {
    return keys().partitionOfStream(stream);
  }

  /**
   * The DLQ stream for dead letters of {@code sourceStream}: the DLQ partition with the source's tag
   * (same slot), partition 0's for a stream without one (tools streams).
   */
  public String dlqFor(String sourceStream) {
    if (partitions == 1) {
      return dlqStream;
    }
    int p = partitionOfStream(sourceStream);
    return dlqStream(Math.max(p, 0));
  }

  /** {@code sg:lease:<group>:{t}}: who reads partition {@code i} for {@code group} ({@link PartitionedKeys#leaseKey}). */
  public String leaseKey(String group, int partition) {
    return keys().leaseKey(group, partition);
  }

  /**
   * {@code {inbound}:partitions}: the partition count this deployment's data was written with. The first node
   * sets it; a node configured with another count refuses to start.
   */
  public String partitionsKey() {
    return StreamKeys.child(inboundStream, "partitions");
  }

  /**
   * {@code {inbound}:assignment:{group}}: how a group's workers share the partitions ({@code lease} or
   * {@code shared}); recorded by its first worker when {@code P > 1}.
   */
  public String assignmentKey(String group) {
    // a group name may contain ':' (sg:workers), so it is appended as it is, like in the lease keys
    return StreamKeys.child(inboundStream, "assignment") + StreamKeys.SEPARATOR + StreamKeys.requireNoBraces("group", group);
  }

  /**
   * The key prefix of the ticket queues of conversations on {@code stream} ({@code SG_ORDERING=channel-lock}):
   * {@code <stream>:order:} for a partition's stream (its {@code {tag}} puts the queues in its slot),
   * {@code {<stream>}:order:} for an untagged one (the whole name as tag: same slot as the stream in a
   * cluster). A queue's key is the prefix plus the SHA-1 (hex) of its conversation, computed in the read
   * script from the envelope: {@code tenant_id ‖ 0x00 ‖ platform ‖ 0x00 ‖ channel_id}.
   */
  public static String channelTicketsPrefix(String stream) {
    boolean tagged = stream.indexOf('{') >= 0;
    return (tagged ? stream : "{" + StreamKeys.requireNoBraces("stream key", stream) + "}") + StreamKeys.SEPARATOR
        + "order" + StreamKeys.SEPARATOR;
  }

  public static Topology defaults() {
    return ConfigSchema.defaults().topology();
  }

  /** {@code sg:stream:outbound:{platform}}. */
  public String outboundStream(String platform) {
    return StreamKeys.child(outboundStreamPrefix, platform);
  }

  /** {@code sg:gateway:{platform}}. */
  public String gatewayGroup(String platform) {
    return StreamKeys.child(gatewayGroupPrefix, platform);
  }

  /** {@code sg:stream:tools:reply:{workerId}}. */
  public String toolsReplyStream(String workerId) {
    return StreamKeys.child(toolsReplyPrefix, workerId);
  }

  /** {@code {inbound}:ratelimit:{caller}-{window}}: a gateway's per-caller rate-limit counter for one window. */
  public String rateLimitKey(String caller, long window) {
    return StreamKeys.child(StreamKeys.child(inboundStream, "ratelimit"), caller + "-" + window);
  }

  /**
   * {@code {inbound}:ratelimit:tenant:{tenant}-{window}}: a gateway's counter of every request of one tenant (all its
   * keys) in one window. Never equal to a {@link #rateLimitKey} (those have no {@code ':'} after {@code ratelimit}).
   */
  public String tenantRateLimitKey(String tenant, long window) {
    return StreamKeys.child(StreamKeys.child(StreamKeys.child(inboundStream, "ratelimit"), "tenant"), tenant + "-" + window);
  }

  /** {@code {keys_prefix}:digest:{sha256hex}}: the record of one stored API key, found by the SHA-256 of the key. */
  public String apiKeyRecord(String digestHex) {
    return StreamKeys.child(StreamKeys.child(keysPrefix, "digest"), digestHex);
  }

  /** {@code {keys_prefix}:index}: a hash from each stored key's id to its digest (listing, revoking by id). */
  public String apiKeyIndex() {
    return StreamKeys.child(keysPrefix, "index");
  }

  /** {@code {inbound}:resume-scan:{caller}-{window}}: the entries a caller's resumes scanned in one window. */
  public String resumeScanKey(String caller, long window) {
    return StreamKeys.child(StreamKeys.child(inboundStream, "resume-scan"), caller + "-" + window);
  }

  /** {@code {inbound}:idempotency:{tenant}:{caller}-{keyHash}}: a gateway's record of one Idempotency-Key. */
  public String idempotencyKey(String tenant, String caller, String keyHash) {
    return StreamKeys.child(StreamKeys.child(StreamKeys.child(inboundStream, "idempotency"), tenant), caller + "-" + keyHash);
  }

  /** Whether {@code key} is one of {@code tenant}'s idempotency records ({@link #idempotencyKey}). */
  public boolean isIdempotencyKeyOf(String tenant, String key) {
    return key.startsWith(StreamKeys.child(StreamKeys.child(inboundStream, "idempotency"), tenant) + StreamKeys.SEPARATOR);
  }

  /**
   * {@code {dlq}:replayed:{dlqEntryId}}: the replay guard of one dead letter ({@code sg dlq replay}): who replayed
   * it, when, and the entry it re-added. Set with {@code SET NX}, so a dead letter is replayed once unless forced.
   */
  public String replayGuardKey(String dlqEntryId) {
    return StreamKeys.child(StreamKeys.child(dlqStream, "replayed"), dlqEntryId);
  }

  /**
   * {@code {inbound}:node-counters}: a sorted set of the nodes that published their message counters
   * ({@link #nodeCountersKey}), scored by when they last did, so the ops page finds every live node
   * without scanning keys.
   */
  public String nodeCountersIndex() {
    return StreamKeys.child(inboundStream, "node-counters");
  }

  /**
   * {@code {inbound}:node-counters:{node}}: a hash of one node's message counter totals (published, acked,
   * dead-lettered, refused) with a short expiry, so the ops page sums the cluster's rates.
   */
  public String nodeCountersKey(String node) {
    return StreamKeys.child(nodeCountersIndex(), node);
  }

  /** {@code sg:heartbeat:{consumer}}: the key a live process holds for one of its consumer names. */
  public String heartbeatKey(String consumer) {
    return StreamKeys.child(heartbeatPrefix, consumer);
  }

  /**
   * How {@code stream} is capped: the inbound streams (every partition) and the tools stream are
   * work streams of the worker and tools groups; the webhook platform's outbound streams are work
   * streams of the webhook group while that group exists; every other stream (tailed outbound
   * streams, tool reply streams, the DLQ) has a plain cap.
   */
  public StreamPolicy policyFor(String stream) {
    if (isInbound(stream)) {
      return StreamPolicy.work(stream, maxLen, Set.of(workerGroup), true);
    }
    if (stream.equals(toolsStream)) {
      return StreamPolicy.work(stream, maxLen, Set.of(toolsGroup), true);
    }
    if (platforms.contains(WEBHOOK_PLATFORM) && isOutbound(WEBHOOK_PLATFORM, stream)) {
      return StreamPolicy.work(stream, maxLen, Set.of(gatewayGroup(WEBHOOK_PLATFORM)), false);
    }
    return StreamPolicy.capped(stream, maxLenFor(stream));
  }

  /** Whether {@code stream} is one of the inbound streams (any partition). */
  public boolean isInbound(String stream) {
    if (partitions == 1) {
      return stream.equals(inboundStream);
    }
    int p = partitionOfStream(stream);
    return p >= 0 && stream.equals(inboundStream(p));
  }

  /** Whether {@code stream} is one of {@code platform}'s outbound streams (any partition). */
  public boolean isOutbound(String platform, String stream) {
    if (partitions == 1) {
      return stream.equals(outboundStream(platform));
    }
    int p = partitionOfStream(stream);
    return p >= 0 && stream.equals(outboundStream(platform, p));
  }

  /** Whether {@code stream} is one of the DLQ streams (any partition). */
  public boolean isDlq(String stream) {
    if (partitions == 1) {
      return stream.equals(dlqStream);
    }
    int p = partitionOfStream(stream);
    return p >= 0 && stream.equals(dlqStream(p));
  }

  /**
   * Every stream of the topology except per-worker reply streams, every partition of each: what
   * monitors watch. Inbound partitions first, then each platform's, the tools stream, the DLQ's.
   */
  public List<String> streams() {
    List<String> out = new java.util.ArrayList<>();
    out.addAll(inboundStreams());
    platforms.forEach(p -> out.addAll(outboundStreams(p)));
    out.add(toolsStream);
    out.addAll(dlqStreams());
    return List.copyOf(out);
  }

  /** The cap used when adding to {@code stream}: the DLQ has its own. */
  public long maxLenFor(String stream) {
    return isDlq(stream) ? dlqMaxLen : maxLen;
  }

  public Topology withMaxLen(long n) {
    return new Topology(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream,
        toolsGroup, toolsReplyPrefix, dlqStream, heartbeatPrefix, n, dlqMaxLen, platforms, toolsReplyTtl, keysPrefix, partitions);
  }

  public Topology withPlatforms(List<String> p) {
    return new Topology(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream,
        toolsGroup, toolsReplyPrefix, dlqStream, heartbeatPrefix, maxLen, dlqMaxLen, p, toolsReplyTtl, keysPrefix, partitions);
  }

  /** Same topology with every stream, group and key name under another prefix (tests, benchmarks). */
  public Topology withNamespace(String ns) {
    return new Topology(ns + ":inbound", ns + ":workers", ns + ":outbound", ns + ":gateway", ns + ":tools",
        ns + ":tools-group", ns + ":tools:reply", ns + ":dlq", ns + ":heartbeat", maxLen, dlqMaxLen, platforms,
        toolsReplyTtl, ns + ":keys", partitions);
  }

  /** Same topology with {@code n} partitions. */
  public Topology withPartitions(int n) {
    return new Topology(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream,
        toolsGroup, toolsReplyPrefix, dlqStream, heartbeatPrefix, maxLen, dlqMaxLen, platforms, toolsReplyTtl, keysPrefix, n);
  }

  private static void requireName(String what, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
  }
}
