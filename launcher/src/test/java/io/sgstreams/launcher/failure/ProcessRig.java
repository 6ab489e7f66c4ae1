package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;

import io.lettuce.core.StreamMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the process-level failure tests share: a fresh stream namespace (as {@code SG_*} variables
 * for the children and as the matching {@link SgConfig} for the test JVM), worker children started
 * through {@code io.sgstreams.launcher.Sg worker}, the client-side gateway running in the test JVM,
 * and clean-up that never leaves a child behind.
 */
final class ProcessRig implements AutoCloseable {
  static final Path LOG_ROOT = Path.of("target", "failure-tests");

  private final String redisUrl;
  private final Map<String, String> env = new HashMap<>();
  private final SgConfig config;
  private final Path logDir;
  private final List<NodeProcess> children = new CopyOnWriteArrayList<>();
  private final List<RedisEventBus> buses = new ArrayList<>();
  private GatewayNode gateway;
  private PrometheusMeterRegistry gatewayRegistry;
  private SseReplies sse;

  /**
   * @param claimMinIdle how long an entry must sit idle before another worker may claim it
   */
  ProcessRig(String testName, String redisUrl, Duration claimMinIdle) {
    this(testName, redisUrl, claimMinIdle, Map.of());
  }

  /**
   * @param claimMinIdle how long an entry must sit idle before another worker may claim it
   * @param overrides further variables (e.g. {@code SG_STREAM_MAXLEN}) for every child and for the
   *     test JVM's {@link SgConfig}, applied over the rig's defaults
   */
  ProcessRig(String testName, String redisUrl, Duration claimMinIdle, Map<String, String> overrides) {
    this.redisUrl = redisUrl;
    String ns = TestRedis.namespace();
    env.put("REDIS_URL", redisUrl);
    env.put("SG_INBOUND_STREAM", ns + ":inbound");
    env.put("SG_WORKER_GROUP", ns + ":workers");
    env.put("SG_OUTBOUND_STREAM_PREFIX", ns + ":outbound");
    env.put("SG_GATEWAY_GROUP_PREFIX", ns + ":gateway");
    env.put("SG_TOOLS_STREAM", ns + ":tools");
    env.put("SG_TOOLS_GROUP", ns + ":tools-group");
    env.put("SG_TOOLS_REPLY_PREFIX", ns + ":tools:reply");
    env.put("SG_DLQ_STREAM", ns + ":dlq");
    // consumer-name heartbeat keys under the namespace too, so that a killed child's heartbeat never
    // delays a later test's node with the same id (ignored by engines without heartbeats)
    env.put("SG_HEARTBEAT_PREFIX", ns + ":heartbeat");
    env.put("SG_CLAIM_MIN_IDLE_MS", Long.toString(claimMinIdle.toMillis()));
    env.put("SG_CLAIM_INTERVAL_MS", "300");
    env.put("SG_READ_BLOCK_MS", "500");
    env.putAll(overrides);
    Map<String, String> forConfig = new HashMap<>(env);
    forConfig.put("SG_NODE_ID", "client");
    this.config = ConfigLoader.load(null, forConfig);
    this.logDir = LOG_ROOT.resolve(testName + "-" + ns.replace(':', '-'));
  }

  SgConfig config() {
    return config;
  }

  /** The children's environment (Redis and the namespaced stream names), e.g. for an in-process {@code sg} command. */
  Map<String, String> env() {
    return Map.copyOf(env);
  }

  String inboundStream() {
    return config.topology().inboundStream();
  }

  String workerGroup() {
    return config.topology().workerGroup();
  }

  String outboundStream() {
    return config.topology().outboundStream("web");
  }

  /** A bus in the test JVM with this namespace. */
  RedisEventBus bus(Role role) {
    RedisEventBus b = TestRedis.bus(redisUrl, role, config);
    buses.add(b);
    return b;
  }

  /**
   * Starts {@code sg worker} as a child with node id {@code nodeId} (consumer {@code worker-nodeId})
   * and waits until its {@code /ready} answers 200.
   */
  NodeProcess startWorker(String nodeId, String handler, Map<String, String> extra) throws IOException {
    NodeProcess p = spawnWorker(nodeId, handler, extra);
    awaitReady(List.of(p));
    return p;
  }

  /** Starts {@code sg worker} as a child without waiting for it (start several, then {@link #awaitReady}). */
  NodeProcess spawnWorker(String nodeId, String handler, Map<String, String> extra) throws IOException {
    Map<String, String> e = new HashMap<>(env);
    int port = freePort();
    e.put("SG_NODE_ID", nodeId);
    e.put("SG_WORKER_ADMIN_PORT", Integer.toString(port));
    e.put("SG_WORKER_HANDLER", handler);
    e.putAll(extra);
    NodeProcess p = NodeProcess.start("worker", "worker-" + nodeId + "-" + children.size(), e, port, logDir);
    children.add(p);
    return p;
  }

  /**
   * Starts {@code sg gateway} as a child with node id {@code nodeId} (free HTTP and admin ports, no
   * rate limit) without waiting for it; with {@code POSTGRES_URL} among the variables it runs the journal.
   */
  NodeProcess spawnGateway(String nodeId, Map<String, String> extra) throws IOException {
    Map<String, String> e = new HashMap<>(env);
    int port = freePort();
    e.put("SG_NODE_ID", nodeId);
    e.put("SG_HTTP_PORT", Integer.toString(freePort()));
    e.put("SG_GATEWAY_ADMIN_PORT", Integer.toString(port));
    e.put("SG_RATE_LIMIT_PER_MINUTE", "0");
    e.putAll(extra);
    NodeProcess p = NodeProcess.start("gateway", "gateway-" + nodeId + "-" + children.size(), e, port, logDir);
    children.add(p);
    return p;
  }

  /** Waits until every node's {@code /ready} answers 200; fails at once if one exits. */
  static void awaitReady(List<NodeProcess> nodes) {
    await("nodes ready").atMost(Duration.ofSeconds(45)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          for (NodeProcess p : nodes) {
            if (!p.isAlive()) {
              throw new IllegalStateException(p.name() + " exited with " + p.process().exitValue());
            }
          }
          return nodes.stream().allMatch(NodeProcess::ready);
        });
  }

  List<NodeProcess> children() {
    return children;
  }

  /** The client side: a gateway node in this JVM (free port, no rate limit) and SSE subscriptions to {@code channels}. */
  SseReplies startGateway(List<String> channels) throws InterruptedException {
    gatewayRegistry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var s = ConfigLoader.load(null, Map.of("SG_NODE_ID", "client",
        "SG_HTTP_PORT", "0", "SG_GATEWAY_ADMIN_PORT", "0", "SG_RATE_LIMIT_PER_MINUTE", "0", "SG_SSE_HEARTBEAT_MS", "1000")).gateway();
    gateway = GatewayNode.start(bus(Role.GATEWAY), s, gatewayRegistry);
    sse = SseReplies.subscribe(gateway.port(), channels);
    return sse;
  }

  GatewayNode gateway() {
    return gateway;
  }

  /** Replies the gateway dropped as duplicates (same in_reply_to + message_key). */
  double gatewayDuplicatesSuppressed() {
    Counter c = gatewayRegistry.find("sg.gateway.replies.duplicate").counter();
    return c == null ? 0 : c.count();
  }

  /** Every reply on the outbound stream, counted per {@code in_reply_to} (at-least-once processing shows as counts above 1). */
  static Map<String, Integer> outboundCounts(RedisEventBus bus, String stream) {
    Map<String, Integer> out = new HashMap<>();
    for (StreamMessage<String, byte[]> m : Streams.all(bus, stream)) {
      Envelope e = bus.codec().decode(m.getBody().get("data"));
      if (e instanceof OutboundEnvelope o && !o.isProgress()) { // answers, not deltas
        out.merge(o.inReplyTo(), 1, Integer::sum);
      }
    }
    return out;
  }

  /** For a failure message: the outbound entries answering {@code inboundIds} (entry id, message key, content), with the entry count between repeats. */
  static String outboundEntries(RedisEventBus bus, String stream, List<String> inboundIds) {
    StringBuilder b = new StringBuilder();
    Map<String, Integer> lastIndex = new HashMap<>();
    int i = 0;
    for (StreamMessage<String, byte[]> m : Streams.all(bus, stream)) {
      if (bus.codec().decode(m.getBody().get("data")) instanceof OutboundEnvelope o && inboundIds.contains(o.inReplyTo())) {
        Integer prev = lastIndex.put(o.inReplyTo(), i);
        b.append("\n  ").append(o.inReplyTo()).append(" @").append(m.getId()).append(" key=").append(o.messageKey())
            .append(" by=").append(o.content()).append(prev == null ? "" : " (" + (i - prev) + " entries after the previous one)");
      }
      i++;
    }
    return b.toString();
  }

  /** The child logs (tails), for a failure message. */
  String logs() {
    StringBuilder b = new StringBuilder();
    for (NodeProcess p : children) {
      b.append('\n').append(p.logTail(6000));
    }
    return b.toString();
  }

  /** Prints the child logs to stderr (called when a test fails). */
  void dumpLogs() {
    System.err.println("===== child process logs (" + logDir.toAbsolutePath() + ") =====" + logs());
  }

  /** Ports handed out by {@link #freePort()} in this JVM: the OS may offer a just-closed port again. */
  private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A port free now and never handed out before by this JVM: two children started in a row got the
   * same port from two {@code ServerSocket(0)} probes once, and the second could not bind.
   */
  static int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      try (ServerSocket s = new ServerSocket(0)) {
        if (HANDED_OUT.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
    throw new IOException("no fresh free port after 100 attempts");
  }

  @Override
  public void close() {
    if (sse != null) {
      sse.close();
    }
    children.forEach(NodeProcess::close);
    if (gateway != null) {
      try {
        gateway.shutdown().block(Duration.ofSeconds(15));
      } catch (RuntimeException ignored) {
        // clean-up only
      }
    }
    buses.forEach(RedisEventBus::close);
  }
}
