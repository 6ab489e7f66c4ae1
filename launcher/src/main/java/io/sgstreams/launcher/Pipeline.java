package io.sgstreams.launcher;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.redis.Redis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import io.sgstreams.gateway.GatewaySettings;
import io.sgstreams.testkit.EmbeddedRedis;
import io.sgstreams.tools.ToolsNode;
import io.sgstreams.tools.ToolsSettings;
import io.sgstreams.worker.WorkerNode;
import io.sgstreams.worker.WorkerSettings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The components one process runs: one role, or all of them ({@code standalone}), sharing one
 * Lettuce client and one Prometheus registry, each with a bus of its own role (so consumer names
 * are {@code gateway-N}, {@code worker-N}, {@code tools-N}). Started tools → worker → gateway, so
 * the gateway only accepts messages once something can answer them; stopped in reverse.
 */
final class Pipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private record Component(String name, Supplier<Mono<Void>> stop) {}

  private final List<Component> started = new ArrayList<>();
  private final List<RedisEventBus> buses = new ArrayList<>();
  /** The port {@code sg standalone}'s embedded Redis prefers (SG_EMBEDDED_REDIS_PORT). */
  static final int EMBEDDED_REDIS_PORT = 6399;

  private EmbeddedRedis embedded;
  private Redis redis;
  private PrometheusMeterRegistry registry;
  private GatewayNode gateway;
  private WorkerNode worker;
  private ToolsNode tools;
  private String redisUrl;

  /**
   * @param role one role, or STANDALONE for all three
   * @param env the environment (settings are read from it)
   */
  static Pipeline start(Role role, SgConfig config, Map<String, String> env, PrintStream out) throws Exception {
    Pipeline p = new Pipeline();
    try {
      p.boot(role, config, env, out);
      return p;
    } catch (Exception | Error e) {
      p.close();
      throw e;
    }
  }

  private void boot(Role role, SgConfig config, Map<String, String> env, PrintStream out) throws Exception {
    // validate every setting before starting anything
    GatewaySettings gs = role.includes(Role.GATEWAY) ? GatewaySettings.fromEnv(env) : null;
    WorkerSettings ws = role.includes(Role.WORKER) ? WorkerSettings.fromEnv(env) : null;
    ToolsSettings ts = role.includes(Role.TOOLS) ? ToolsSettings.fromEnv(toolsEnv(role, env)) : null;

    out.printf("sg %s (node %s)%n", role.wire(), config.nodeId());
    if (config.redisUrl().isPresent()) {
      redisUrl = config.redisUrl().get();
      out.printf("  redis    %s%n", redact(redisUrl));
    } else if (role == Role.STANDALONE) {
      Path dir = Path.of(env.getOrDefault("SG_EMBEDDED_REDIS_DIR", System.getProperty("java.io.tmpdir") + "/sg-redis-" + config.nodeId()));
      int port = Integer.parseInt(env.getOrDefault("SG_EMBEDDED_REDIS_PORT", Integer.toString(EMBEDDED_REDIS_PORT)));
      // an append-only file in a kept directory: a restarted standalone finds its pending work
      embedded = EmbeddedRedis.builder().preferredPort(port).dataDir(dir)
          .persistence(EmbeddedRedis.Persistence.AOF_FSYNC_EVERYSEC).start();
      started.add(new Component("embedded redis", () -> Mono.fromRunnable(embedded::close)));
      redisUrl = embedded.url();
      out.printf("  redis    %s (embedded Redis 7.0, data in %s)%n", redisUrl, dir);
    } else {
      throw new io.sgstreams.core.config.ConfigException("REDIS_URL", null,
          "required for 'sg " + role.wire() + "' (only 'sg standalone' starts an embedded Redis)");
    }
    SgConfig cfg = config.withRedisUrl(redisUrl);

    redis = Redis.connect(redisUrl);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    if (ts != null) {
      RedisEventBus bus = bus(Role.TOOLS, cfg);
      tools = ToolsNode.start(bus, ts, registry);
      started.add(new Component("tools", tools::shutdown));
      out.printf("  tools    %s%s%n", bus.consumerName(), admin(tools.adminPort()));
    }
    if (ws != null) {
      RedisEventBus bus = bus(Role.WORKER, cfg);
      worker = WorkerNode.start(bus, ws, registry);
      started.add(new Component("worker", worker::shutdown));
      out.printf("  worker   %s, handler %s%s%n", bus.consumerName(), ws.handler(), admin(worker.adminPort()));
    }
    if (gs != null) {
      RedisEventBus bus = bus(Role.GATEWAY, cfg);
      gateway = GatewayNode.start(bus, gs, registry);
      started.add(new Component("gateway", gateway::shutdown));
      out.printf("  gateway  http://%s:%d  (POST /v1/messages, GET /v1/channels/{id}/events, /v1/ws, /health, /ready, /metrics)%n",
          gs.host(), gateway.port());
    }
    out.flush();
  }

  private RedisEventBus bus(Role role, SgConfig cfg) {
    RedisEventBus b = RedisEventBus.create(redis, role, cfg.nodeId(), cfg, registry);
    buses.add(b);
    return b;
  }

  /** Standalone runs worker and tools in one process: the tools admin server moves to the next port. */
  static Map<String, String> toolsEnv(Role role, Map<String, String> env) {
    if (role != Role.STANDALONE) {
      return env;
    }
    Map<String, String> m = new HashMap<>(env);
    String toolsPort = env.get("SG_TOOLS_ADMIN_PORT");
    if (toolsPort == null) {
      int workerPort = Integer.parseInt(env.getOrDefault("SG_ADMIN_PORT", "9090").trim());
      toolsPort = workerPort <= 0 ? Integer.toString(workerPort) : Integer.toString(workerPort + 1);
    }
    m.put("SG_ADMIN_PORT", toolsPort);
    return m;
  }

  private static String admin(Integer port) {
    return port == null ? "" : ", admin http://127.0.0.1:" + port + " (/health, /ready, /metrics)";
  }

  private static String redact(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  /**
   * Completes when a node of this process must stop for good: another process took one of its
   * consumer names (this one stalled past the heartbeat TTL and a namesake started).
   */
  Mono<Void> whenFatal() {
    List<Mono<Void>> fatal = new ArrayList<>();
    if (gateway != null) fatal.add(gateway.whenFatal());
    if (worker != null) fatal.add(worker.whenFatal());
    if (tools != null) fatal.add(tools.whenFatal());
    return fatal.isEmpty() ? Mono.never() : Mono.firstWithSignal(fatal);
  }

  GatewayNode gateway() {
    return gateway;
  }

  WorkerNode worker() {
    return worker;
  }

  ToolsNode tools() {
    return tools;
  }

  String redisUrl() {
    return redisUrl;
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Graceful stop in reverse start order: gateway, worker (drains), tools, then Redis. */
  @Override
  public synchronized void close() {
    List<Component> reversed = new ArrayList<>(started);
    Collections.reverse(reversed);
    started.clear();
    for (Component c : reversed) {
      if (c.name().equals("embedded redis")) {
        continue;
      }
      try {
        c.stop().get().block(STOP_TIMEOUT);
      } catch (RuntimeException e) {
        log.warn("stopping {} failed: {}", c.name(), e.toString());
      }
    }
    buses.forEach(RedisEventBus::close);
    buses.clear();
    if (redis != null) {
      redis.close();
      redis = null;
    }
    if (embedded != null) {
      embedded.close();
      embedded = null;
    }
  }
}
