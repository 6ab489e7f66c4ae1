package io.sgstreams.bench.roundtrip;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.redis.Redis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import io.sgstreams.gateway.fanout.ReplyTail;
import io.sgstreams.testkit.EmbeddedPostgres;
import io.sgstreams.testkit.EmbeddedRedis;
import io.sgstreams.worker.WorkerNode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The round-trip benchmark ({@code sg bench}) with the project's own components in one process:
 * the core bus publishing inbound envelopes (or the gateway over HTTP), W worker nodes running the
 * echo handler through the consumer engine, and the gateway's outbound tail matching each reply to
 * its request by correlation id. A warm-up phase, then the measured one ({@link LoadGenerator});
 * resources are sampled around the measured phase ({@link ResourceSnapshot}).
 *
 * <pre>{@code
 * RoundTripResult r = RoundTripBenchmark.run(RoundTripOptions.builder().messages(20_000).build(), System.getenv(), System.err);
 * System.out.println(r.jsonLine());
 * }</pre>
 */
public final class RoundTripBenchmark {
  /** Every stream of a run lives under this prefix, never a deployment's: deleted and recreated before each run. */
  public static final String NAMESPACE = "sg-bench";

  private RoundTripBenchmark() {}

  /**
   * Runs the benchmark and returns its result; progress goes to {@code progress}.
   *
   * @param env the environment: consumer settings come from its {@code SG_*} variables (streams.yaml
   *     is not read; {@code SG_WORKER_CONCURRENCY} and {@code SG_READ_COUNT} default to 256 here),
   *     and so do the worker's and gateway's node settings
   * @throws io.sgstreams.core.config.ConfigException for an unusable setting
   */
  public static RoundTripResult run(RoundTripOptions options, Map<String, String> env, PrintStream progress)
      throws InterruptedException {
    EmbeddedRedis embedded = null;
    EmbeddedPostgres postgres = null;
    String url = options.redisUrl();
    Map<String, String> runEnv = new HashMap<>(env);
    try {
      if (url == null) {
        embedded = EmbeddedRedis.start(); // no persistence, a temporary data directory deleted on close
        url = embedded.url();
      }
      if (options.journal()) {
        String pg = env.get("POSTGRES_URL");
        if (pg == null || pg.isBlank()) {
          postgres = EmbeddedPostgres.start(); // a temporary data directory deleted on close
          pg = postgres.url();
        }
        runEnv.put("POSTGRES_URL", pg);
        runEnv.put("SG_JOURNAL", "on");
      } else {
        runEnv.put("SG_JOURNAL", "off");
      }
      return run(options, url, embedded != null, postgres != null, runEnv, progress);
    } finally {
      if (embedded != null) {
        embedded.close();
      }
      if (postgres != null) {
        postgres.close();
      }
    }
  }

  private static RoundTripResult run(RoundTripOptions o, String url, boolean embeddedRedis, boolean embeddedPostgres,
      Map<String, String> env, PrintStream progress) throws InterruptedException {
    SgConfig config = config(o, url, env);
    Redis redis = Redis.connect(url); // one client for every bus, as in a node process
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<RedisEventBus> buses = new ArrayList<>();
    List<WorkerNode> workers = new ArrayList<>();
    GatewayNode gateway = null;
    List<ReplyTail> tails = new ArrayList<>();
    RequestSender sender = null;
    try {
      RedisEventBus pub = bus(redis, Role.GATEWAY, "bench", config, registry, buses);
      reset(pub, config, o.workers());
      for (int i = 0; i < o.workers(); i++) {
        workers.add(WorkerNode.start(bus(redis, Role.WORKER, "bench-w" + i, config, registry, buses), config.worker(), registry));
      }
      if (o.via() == RoundTripOptions.Via.HTTP || o.journal()) {
        gateway = GatewayNode.start(pub, config.gateway(), registry); // with --journal: its journal consumer
      }
      if (o.via() == RoundTripOptions.Via.HTTP) {
        sender = new HttpRequestSender(gateway.port(), o.inflight());
      } else {
        sender = new StreamRequestSender(pub);
      }
      LoadGenerator load = new LoadGenerator(o, sender, progress);
      if (o.via() == RoundTripOptions.Via.STREAM) {
        for (String stream : config.topology().outboundStreams("web")) {
          ReplyTail tail = new ReplyTail(pub, stream, e -> load.answered(e.reply().correlationId()));
          tail.start().block(Duration.ofSeconds(10));
          tails.add(tail);
        }
      }

      long warmupRequests = 0;
      if (o.warmup() > 0) {
        progress.printf("warmup: %d requests%n", o.warmup());
        PhaseResult warm = load.phase(o.warmup());
        warmupRequests = o.warmup() + JitSettle.settle(load, o, warm, progress);
      }
      if (o.journal()) {
        journalCaughtUp(pub, progress); // the warmup's rows written before measuring starts
      }
      ResourceSnapshot before = ResourceSnapshot.take(pub);
      Map<String, Long> xaddsBefore = pub.commandCallsPerShard("xadd").onErrorReturn(Map.of()).block(Duration.ofSeconds(10));
      double rowsBefore = journalRows(registry);
      long t0 = System.nanoTime();
      int measured = o.measuredRequests();
      progress.printf("measuring: %d requests (%s loop%s, via %s, %d workers%s)%n", measured, o.mode().wire(),
          o.open() ? " at " + o.rate() + "/s" : ", " + o.inflight() + " in flight", o.via().wire(), o.workers(),
          o.journal() ? ", journal on" : "");
      PhaseResult r = load.phase(measured);
      ResourceSnapshot after = ResourceSnapshot.take(pub);
      Map<String, Long> xadds = new java.util.TreeMap<>();
      pub.commandCallsPerShard("xadd").onErrorReturn(Map.of()).block(Duration.ofSeconds(10))
          .forEach((shard, n) -> xadds.put(shard, n - xaddsBefore.getOrDefault(shard, 0L)));
      RoundTripResult.Shards shards = new RoundTripResult.Shards(config.topology().partitions(), pub.clustered(), xadds);
      RoundTripResult.JournalFigures journal = null;
      if (o.journal()) {
        long t1 = System.nanoTime();
        journalCaughtUp(pub, progress);
        long t2 = System.nanoTime();
        journal = new RoundTripResult.JournalFigures((long) (journalRows(registry) - rowsBefore), (t2 - t0) / 1e9,
            (t2 - t1) / 1e9, embeddedPostgres);
      }
      return new RoundTripResult(o, measured, r, before, after, config.consumer().concurrency(),
          config.consumer().readCount(), embeddedRedis, journal, shards, warmupRequests);
    } finally {
      for (ReplyTail tail : tails) {
        tail.stop().block(Duration.ofSeconds(5));
      }
      if (gateway != null) {
        gateway.shutdown().block(Duration.ofSeconds(15));
      }
      if (sender != null) {
        sender.close();
      }
      for (WorkerNode w : workers) {
        w.shutdown(Duration.ofSeconds(2)).block(Duration.ofSeconds(15));
      }
      buses.forEach(RedisEventBus::close);
      redis.close();
      registry.close();
    }
  }

  private static double journalRows(PrometheusMeterRegistry registry) {
    io.micrometer.core.instrument.Counter c = registry.find("sg.journal.rows").counter();
    return c == null ? 0 : c.count();
  }

  /** Waits until the journal's group has nothing pending and no lag on the inbound and outbound streams. */
  private static void journalCaughtUp(RedisEventBus bus, PrintStream progress) throws InterruptedException {
    String group = bus.config().journal().group();
    List<String> streams = new ArrayList<>(bus.topology().inboundStreams());
    streams.addAll(bus.topology().outboundStreams("web"));
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (System.nanoTime() < deadline) {
      boolean done = true;
      for (String s : streams) {
        Long pending = bus.pendingCount(s, group).block(Duration.ofSeconds(10));
        java.util.OptionalLong lag = bus.groupLag(s, group).block(Duration.ofSeconds(10));
        done &= pending != null && pending == 0 && lag != null && lag.isPresent() && lag.getAsLong() == 0;
      }
      if (done) {
        return;
      }
      Thread.sleep(20);
    }
    progress.println("journal: not caught up after 5 minutes");
  }

  /**
   * The configuration of every bus of the run: defaults and {@code SG_*} variables, node id
   * {@code bench}, 256 in flight and read per worker unless set, every stream under {@link
   * #NAMESPACE} and a cap the whole run fits in (so publishing is never refused for backlog);
   * the workers run echo without an admin server; the gateway of {@code --via http} listens on a
   * free loopback port with no API keys, no rate limit and no admin server.
   */
  static SgConfig config(RoundTripOptions o, String redisUrl, Map<String, String> env) {
    Map<String, String> cfgEnv = new HashMap<>(env);
    cfgEnv.put("SG_NODE_ID", "bench");
    cfgEnv.putIfAbsent("SG_WORKER_CONCURRENCY", "256");
    cfgEnv.putIfAbsent("SG_READ_COUNT", "256");
    cfgEnv.put("SG_WORKER_ADMIN_PORT", "-1");
    cfgEnv.put("SG_WORKER_HANDLER", "echo");
    cfgEnv.put("SG_HTTP_HOST", "127.0.0.1");
    cfgEnv.put("SG_HTTP_PORT", "0");
    cfgEnv.put("SG_GATEWAY_ADMIN_PORT", "-1");
    cfgEnv.put("SG_API_KEYS", "");
    cfgEnv.put("SG_RATE_LIMIT_PER_MINUTE", "0");
    SgConfig base = ConfigLoader.load(null, cfgEnv).withRedisUrl(redisUrl);
    long cap = Math.max(100_000L, (long) o.messages() + o.warmup() + 10_000L);
    return base.withTopology(base.topology().withNamespace(NAMESPACE).withMaxLen(cap));
  }

  /** A bus (connections of its own on the shared client) for {@code role} on node {@code nodeId}; closed by the caller. */
  private static RedisEventBus bus(Redis redis, Role role, String nodeId, SgConfig config,
      PrometheusMeterRegistry registry, List<RedisEventBus> buses) {
    RedisEventBus b = RedisEventBus.create(redis, role, nodeId, config, registry);
    buses.add(b);
    return b;
  }

  /** Deletes the benchmark's own streams (one key per command) and recreates the worker group. */
  private static void reset(RedisEventBus bus, SgConfig config, int workers) {
    Topology t = config.topology();
    List<String> keys = new ArrayList<>(t.inboundStreams());
    keys.add(t.toolsStream());
    keys.addAll(t.dlqStreams());
    t.platforms().forEach(p -> keys.addAll(t.outboundStreams(p)));
    for (int i = 0; i < workers; i++) {
      keys.add(t.toolsReplyStream("worker-bench-w" + i));
    }
    keys.add(t.partitionsKey());
    keys.add(t.assignmentKey(t.workerGroup())); // the bench's own namespace: P may differ from the last run's
    bus.deleteStreams(keys).block(Duration.ofSeconds(30));
    t.inboundStreams().forEach(s -> bus.ensureGroup(s, t.workerGroup()).block(Duration.ofSeconds(10)));
  }
}
