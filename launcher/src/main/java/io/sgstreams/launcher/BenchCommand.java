package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.Unpooled;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.redis.RedisStreams;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import io.sgstreams.gateway.fanout.ReplyEvent;
import io.sgstreams.gateway.fanout.ReplyTail;
import io.sgstreams.worker.WorkerNode;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * {@code sg bench}: the round trip with the project's own components in one process — the core
 * bus publishing inbound envelopes (or the gateway over HTTP), W worker nodes running the echo
 * handler through the consumer engine, and the gateway's outbound tail matching each reply to its
 * request by correlation id. One JSON line on stdout; progress on stderr.
 */
final class BenchCommand {
  static final String HELP = """
      usage: sg bench [--messages N] [--workers W] [--payload-bytes B] [--mode closed|open]
                      [--inflight K] [--rate R] [--duration S] [--warmup M] [--via stream|http]
                      [--redis URL]

      Round-trip benchmark: publisher -> inbound stream -> W echo workers -> outbound stream ->
      reply matched by correlation_id. Streams live under the prefix 'sg-bench' (deleted and
      recreated before each run), never a deployment's.
        --messages N       measured requests (default 200000)
        --workers W        worker nodes, each its own consumer in the group (default 4)
        --payload-bytes B  size of each request's content (default 256)
        --mode closed      at most --inflight K outstanding, a new request per reply (default, K=1000)
        --mode open        --rate R requests per second on a fixed schedule; latency from each
                           request's intended send time (no coordinated omission)
        --duration S       open loop for S seconds instead of N messages
        --warmup M         requests run first and not counted (default 100000)
        --via stream|http  publish with the core bus (default) or POST /v1/messages?wait= to a gateway
        --redis URL        default $REDIS_URL, else an embedded Redis 7.0 without persistence
      Worker consumer settings come from streams.yaml / SG_* (SG_WORKER_CONCURRENCY, SG_READ_COUNT, ...).
      Output: one JSON line: impl, mode, messages, seconds, throughput_msgs_per_s, p50_ms, p99_ms,
      p999_ms, max_ms, lost, duplicates, workers, payload_bytes, inflight, rate, via, client_cpu_s,
      redis_cpu_s, heap/RSS at start and end.
      """;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String NAMESPACE = "sg-bench";
  private static final Duration LOST_AFTER = Duration.ofSeconds(30);

  private record Options(int messages, int workers, int payloadBytes, boolean open, int inflight, double rate,
      Integer durationS, int warmup, boolean http, String redisUrl) {}

  private BenchCommand() {}

  static int run(Cli cli, Map<String, String> env, PrintStream out, PrintStream err) throws Exception {
    Options o = options(cli, env);
    EmbeddedRedisServer embedded = null;
    String url = o.redisUrl();
    if (url == null) {
      embedded = EmbeddedRedisServer.start(0, Files.createTempDirectory("sg-bench-redis"), false);
      url = embedded.url();
    }
    Map<String, String> cfgEnv = new HashMap<>(env);
    cfgEnv.put("SG_NODE_ID", "bench");
    cfgEnv.putIfAbsent("SG_WORKER_CONCURRENCY", "256");
    cfgEnv.putIfAbsent("SG_READ_COUNT", "256");
    // the workers run echo without an admin server; the gateway (--via http) listens on a free loopback port, no auth, no rate limit
    cfgEnv.put("SG_WORKER_ADMIN_PORT", "-1");
    cfgEnv.put("SG_WORKER_HANDLER", "echo");
    cfgEnv.put("SG_HTTP_HOST", "127.0.0.1");
    cfgEnv.put("SG_HTTP_PORT", "0");
    cfgEnv.put("SG_API_KEYS", "");
    cfgEnv.put("SG_RATE_LIMIT_PER_MINUTE", "0");
    SgConfig base = ConfigLoader.load(null, cfgEnv).withRedisUrl(url);
    long cap = Math.max(100_000L, (long) o.messages() + o.warmup() + 10_000L);
    SgConfig config = base.withTopology(base.topology().withNamespace(NAMESPACE).withMaxLen(cap));

    RedisClient client = RedisStreams.newClient();
    RedisURI uri = RedisURI.create(url);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<RedisEventBus> buses = new ArrayList<>();
    List<WorkerNode> workers = new ArrayList<>();
    GatewayNode gateway = null;
    ReplyTail tail = null;
    try {
      RedisEventBus pub = RedisEventBus.create(client, uri, Role.GATEWAY, "bench", config, registry);
      buses.add(pub);
      reset(pub, config, o.workers());
      WorkerConfig ws = config.worker();
      for (int i = 0; i < o.workers(); i++) {
        RedisEventBus b = RedisEventBus.create(client, uri, Role.WORKER, "bench-w" + i, config, registry);
        buses.add(b);
        workers.add(WorkerNode.start(b, ws, registry));
      }
      Run run = new Run(o, pub, err);
      HttpClient http = null;
      if (o.http()) {
        gateway = GatewayNode.start(pub, config.gateway(), registry);
        http = HttpClient.create(ConnectionProvider.builder("bench").maxConnections(Math.max(64, o.inflight()))
                .pendingAcquireMaxCount(-1).build())
            .baseUrl("http://127.0.0.1:" + gateway.port())
            .headers(h -> h.set("Content-Type", "application/json"));
      } else {
        tail = new ReplyTail(pub, config.topology().outboundStream("web"), run::onReply);
        tail.start().block(Duration.ofSeconds(10));
      }
      run.http = http;

      if (o.warmup() > 0) {
        err.printf("warmup: %d requests%n", o.warmup());
        run.phase(o.warmup(), false);
      }
      Snapshot before = Snapshot.take(pub);
      int measured = o.durationS() != null ? (int) Math.round(o.rate() * o.durationS()) : o.messages();
      err.printf("measuring: %d requests (%s loop%s, via %s, %d workers)%n", measured, o.open() ? "open" : "closed",
          o.open() ? " at " + o.rate() + "/s" : ", " + o.inflight() + " in flight", o.http() ? "http" : "stream", o.workers());
      Result r = run.phase(measured, true);
      Snapshot after = Snapshot.take(pub);

      ObjectNode line = JSON.createObjectNode();
      line.put("impl", "sg");
      line.put("mode", o.open() ? "open" : "closed");
      line.put("messages", measured);
      line.put("seconds", round(r.seconds(), 3));
      line.put("throughput_msgs_per_s", round(r.received() / r.seconds(), 1));
      Histogram h = r.histogram();
      line.put("p50_ms", ms(h.getValueAtPercentile(50)));
      line.put("p99_ms", ms(h.getValueAtPercentile(99)));
      line.put("p999_ms", ms(h.getValueAtPercentile(99.9)));
      line.put("max_ms", ms(h.getMaxValue()));
      line.put("lost", r.lost());
      line.put("duplicates", r.duplicates());
      line.put("errors", r.errors());
      line.put("workers", o.workers());
      line.put("payload_bytes", o.payloadBytes());
      if (o.open()) {
        line.putNull("inflight");
        line.put("rate", o.rate());
      } else {
        line.put("inflight", o.inflight());
        line.putNull("rate");
      }
      line.put("via", o.http() ? "http" : "stream");
      line.put("client_cpu_s", round((after.cpuNanos() - before.cpuNanos()) / 1e9, 2));
      line.put("redis_cpu_s", round(after.redisCpuS() - before.redisCpuS(), 2));
      line.put("heap_after_gc_start_mb", before.heapAfterGcMb());
      line.put("heap_after_gc_end_mb", after.heapAfterGcMb());
      line.put("rss_start_mb", before.rssMb());
      line.put("rss_end_mb", after.rssMb());
      line.put("worker_concurrency", config.consumer().concurrency());
      line.put("read_count", config.consumer().readCount());
      line.put("redis", embedded != null ? "embedded" : "external");
      out.println(line.toString());
      out.flush();
      return r.lost() == 0 ? 0 : 1;
    } finally {
      if (tail != null) {
        tail.stop().block(Duration.ofSeconds(5));
      }
      if (gateway != null) {
        gateway.shutdown().block(Duration.ofSeconds(15));
      }
      for (WorkerNode w : workers) {
        w.shutdown(Duration.ofSeconds(2)).block(Duration.ofSeconds(15));
      }
      buses.forEach(RedisEventBus::close);
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      registry.close();
      if (embedded != null) {
        embedded.close();
      }
    }
  }

  private static Options options(Cli cli, Map<String, String> env) {
    int messages = positive(cli, "messages", 200_000);
    int workers = positive(cli, "workers", 4);
    int payload = (int) cli.number("payload-bytes", 256);
    if (payload < 0 || payload > 512 * 1024) {
      throw new Cli.UsageException("--payload-bytes must be between 0 and 524288");
    }
    String mode = cli.option("mode", "closed");
    if (!mode.equals("closed") && !mode.equals("open")) {
      throw new Cli.UsageException("--mode must be closed or open");
    }
    boolean open = mode.equals("open");
    int inflight = positive(cli, "inflight", 1000);
    double rate = cli.number("rate", 5000);
    if (open && rate <= 0) {
      throw new Cli.UsageException("--rate must be positive");
    }
    Integer duration = cli.options().containsKey("duration") ? positive(cli, "duration", 0) : null;
    if (duration != null && !open) {
      throw new Cli.UsageException("--duration needs --mode open");
    }
    int warmup = (int) cli.number("warmup", 100_000);
    if (warmup < 0) {
      throw new Cli.UsageException("--warmup must not be negative");
    }
    String via = cli.option("via", "stream");
    if (!via.equals("stream") && !via.equals("http")) {
      throw new Cli.UsageException("--via must be stream or http");
    }
    String redis = cli.option("redis", env.get("REDIS_URL"));
    return new Options(messages, workers, payload, open, inflight, rate, duration, warmup, via.equals("http"),
        redis == null || redis.isBlank() ? null : redis);
  }

  private static int positive(Cli cli, String name, int dflt) {
    double v = cli.number(name, dflt);
    if (v <= 0 || v != Math.floor(v) || v > Integer.MAX_VALUE) {
      throw new Cli.UsageException("--" + name + " must be a positive whole number");
    }
    return (int) v;
  }

  /** Deletes the benchmark's own streams (one key per command) and recreates the worker group. */
  private static void reset(RedisEventBus bus, SgConfig config, int workers) {
    var t = config.topology();
    List<String> keys = new ArrayList<>(List.of(t.inboundStream(), t.toolsStream(), t.dlqStream()));
    t.platforms().forEach(p -> keys.add(t.outboundStream(p)));
    for (int i = 0; i < workers; i++) {
      keys.add(t.toolsReplyStream("worker-bench-w" + i));
    }
    bus.deleteStreams(keys).block(Duration.ofSeconds(30));
    bus.ensureGroup(t.inboundStream(), t.workerGroup()).block(Duration.ofSeconds(10));
  }

  private record Result(double seconds, long received, long lost, long duplicates, long errors, Histogram histogram) {}

  /** One phase (warmup or measured) of sends and matched replies. */
  private static final class Run {
    private final Options o;
    private final RedisEventBus pub;
    private final PrintStream err;
    private final String payload;
    private final ConcurrentHashMap<String, Long> outstanding = new ConcurrentHashMap<>();
    /** Requests answered in this phase, by sequence number: constant memory per request for the soak. */
    private final java.util.BitSet answered = new java.util.BitSet();
    private final AtomicInteger seq = new AtomicInteger();
    private final String run = Long.toString(System.nanoTime(), 36);
    private volatile ConcurrentHistogram histogram;
    private volatile CountDownLatch done;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicInteger nextIndex = new AtomicInteger();
    private volatile int total;
    private volatile long lastReplyNanos;
    HttpClient http;

    Run(Options o, RedisEventBus pub, PrintStream err) {
      this.o = o;
      this.pub = pub;
      this.err = err;
      this.payload = "x".repeat(o.payloadBytes());
    }

    Result phase(int n, boolean measured) throws InterruptedException {
      histogram = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
      outstanding.clear();
      synchronized (answered) {
        answered.clear();
      }
      seq.set(0);
      received.set(0);
      duplicates.set(0);
      errors.set(0);
      nextIndex.set(0);
      total = n;
      done = new CountDownLatch(n);
      long start = System.nanoTime();
      Thread progress = progress(start, n);
      if (o.open()) {
        long interval = (long) (1e9 / o.rate());
        for (int i = 0; i < n; i++) {
          long intended = start + i * interval;
          long wait;
          while ((wait = intended - System.nanoTime()) > 0) {
            LockSupport.parkNanos(Math.min(wait, 100_000));
          }
          send(intended);
        }
      } else {
        int first = Math.min(o.inflight(), n);
        for (int i = 0; i < first; i++) {
          if (nextIndex.getAndIncrement() < n) {
            send(System.nanoTime());
          }
        }
      }
      long sentAll = System.nanoTime();
      boolean complete = done.await(LOST_AFTER.toSeconds() + Math.max(0, (sentAll - start) / 1_000_000_000L / 10), TimeUnit.SECONDS);
      progress.interrupt();
      long end = complete ? lastReplyNanos : System.nanoTime();
      long lost = outstanding.size();
      if (!complete) {
        err.printf("%d requests unanswered %d s after the last send%n", lost, LOST_AFTER.toSeconds());
      }
      return new Result(Math.max(1e-9, (end - start) / 1e9), received.get(), lost, duplicates.get(), errors.get(), histogram.copy());
    }

    private void send(long startNanos) {
      // correlation ids carry a sequence number, so duplicate detection needs one bit per request
      String cid = "b" + run + "-" + seq.getAndIncrement();
      InboundEnvelope in = InboundEnvelope.create("web", "bench-" + (startNanos & 1023), "bench", payload).withCorrelationId(cid);
      outstanding.put(cid, startNanos);
      if (http != null) {
        ObjectNode body = JSON.createObjectNode();
        body.put("platform", "web");
        body.put("channel_id", in.channelId());
        body.put("user_id", "bench");
        body.put("content", payload);
        body.put("correlation_id", cid);
        byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
        http.post().uri("/v1/messages?wait=30")
            .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(bytes)))
            .responseSingle((res, buf) -> buf.asString().defaultIfEmpty("").map(s -> Map.entry(res.status().code(), s)))
            .subscribe(r -> {
              if (r.getKey() == 200) {
                complete(cid);
              } else {
                failed(cid);
              }
            }, e -> failed(cid));
      } else {
        pub.publishInbound(in).subscribe(id -> {}, e -> failed(cid));
      }
    }

    void onReply(ReplyEvent e) {
      complete(e.reply().correlationId());
    }

    private void complete(String cid) {
      Long startNanos = outstanding.remove(cid);
      long now = System.nanoTime();
      int n = sequence(cid);
      if (startNanos == null) {
        if (n >= 0) {
          synchronized (answered) {
            if (answered.get(n)) {
              duplicates.incrementAndGet();
            }
          }
        }
        return;
      }
      if (n >= 0) {
        synchronized (answered) {
          answered.set(n);
        }
      }
      histogram.recordValue(Math.max(0, (now - startNanos) / 1000));
      received.incrementAndGet();
      lastReplyNanos = now;
      done.countDown();
      next();
    }

    /** The sequence number of one of this run's correlation ids, or -1 (another run's, or not ours). */
    private int sequence(String cid) {
      int dash = cid == null ? -1 : cid.lastIndexOf('-');
      if (dash < 0 || !cid.startsWith("b" + run)) {
        return -1;
      }
      try {
        return Integer.parseInt(cid, dash + 1, cid.length(), 10);
      } catch (NumberFormatException e) {
        return -1;
      }
    }

    /** A request that got an error answer (e.g. HTTP 504/503) is finished: counted in errors, not lost. */
    private void failed(String cid) {
      if (outstanding.remove(cid) != null) {
        errors.incrementAndGet();
        done.countDown();
        next();
      }
    }

    private void next() {
      if (!o.open() && nextIndex.getAndIncrement() < total) {
        send(System.nanoTime());
      }
    }

    private Thread progress(long start, int n) {
      Thread t = new Thread(() -> {
        long last = 0;
        long lastT = start;
        while (!Thread.currentThread().isInterrupted()) {
          try {
            Thread.sleep(2000);
          } catch (InterruptedException e) {
            return;
          }
          long now = System.nanoTime();
          long got = received.get();
          err.printf("  %,d / %,d replies, %.0f/s, %d outstanding, %d errors%n", got, n,
              (got - last) / ((now - lastT) / 1e9), outstanding.size(), errors.get());
          last = got;
          lastT = now;
        }
      }, "bench-progress");
      t.setDaemon(true);
      t.start();
      return t;
    }
  }

  /** Process CPU, heap after GC, RSS and Redis CPU at one moment. */
  private record Snapshot(long cpuNanos, double redisCpuS, long heapAfterGcMb, long rssMb) {
    static Snapshot take(RedisEventBus bus) {
      System.gc();
      long heap = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
      long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
      double redisCpu = 0;
      try {
        redisCpu = bus.serverCpuSeconds().block(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        redisCpu = Double.NaN;
      }
      return new Snapshot(cpu, redisCpu, heap, currentRssMb());
    }

    private static long currentRssMb() {
      try {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (l.startsWith("VmRSS:")) {
            return Long.parseLong(l.replaceAll("[^0-9]", "")) >> 10;
          }
        }
      } catch (IOException | NumberFormatException e) {
        // not Linux
      }
      return -1;
    }
  }

  private static double ms(long micros) {
    return round(micros / 1000.0, 3);
  }

  private static double round(double v, int places) {
    double f = Math.pow(10, places);
    return Math.round(v * f) / f;
  }

  static JsonNode parse(String line) throws IOException {
    return JSON.readTree(line);
  }
}
