package io.sgstreams.launcher;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.ops.AdminServer;
import io.sgstreams.core.ops.Readiness;
import io.sgstreams.core.redis.Redis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import io.sgstreams.testkit.EmbeddedPostgres;
import io.sgstreams.testkit.EmbeddedRedis;
import io.sgstreams.tools.ToolsNode;
import io.sgstreams.worker.WorkerNode;
import io.sgstreams.worker.handlers.HandlerRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;

/**
 * The components one process runs: one role, or all of them ({@code standalone}), sharing one
 * Lettuce client and one Prometheus registry, each with a bus of its own role (so consumer names
 * are {@code gateway-N}, {@code worker-N}, {@code tools-N}). Started tools → worker → gateway, so
 * the gateway only accepts messages once something can answer them; stopped in reverse. Each
 * node takes its section of the one configuration tree. Standalone serves one admin server
 * ({@code worker.admin_host}:{@code worker.admin_port}) whose {@code /ready} has every role's
 * checks, instead of one per node (the gateway's public port answers {@code /health} only).
 */
final class Pipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

  private record Component(String name, Supplier<Mono<Void>> stop) {}

  private final List<Component> started = new ArrayList<>();
  private final List<RedisEventBus> buses = new ArrayList<>();
  private EmbeddedRedis embedded;
  private Redis redis;
  private PrometheusMeterRegistry registry;
  private GatewayNode gateway;
  private WorkerNode worker;
  private ToolsNode tools;
  private DisposableServer admin;
  private String redisUrl;
  private EmbeddedPostgres embeddedPostgres;
  private RedisEventBus gatewayBus;

  /**
   * @param role one role, or STANDALONE for all three
   * @param config the whole tree; each node takes its section
   */
  static Pipeline start(Role role, SgConfig config, PrintStream out) throws Exception {
    Pipeline p = new Pipeline();
    try {
      p.boot(role, config, out);
      return p;
    } catch (Exception | Error e) {
      p.close();
      throw e;
    }
  }

  private void boot(Role role, SgConfig config, PrintStream out) throws Exception {
    // check what can be checked before starting anything
    if (role.includes(Role.GATEWAY)) {
      config.gateway().requireAuthUnlessLoopback();
    }
    if (role.includes(Role.WORKER)) {
      HandlerRegistry.find(config.worker().handler(), Thread.currentThread().getContextClassLoader());
    }
    // standalone: one admin server for every role instead of one per node
    boolean oneAdmin = role == Role.STANDALONE;
    WorkerConfig ws = oneAdmin ? config.worker().withAdminPort(WorkerConfig.NO_ADMIN) : config.worker();
    ToolsConfig ts = oneAdmin ? config.tools().withAdminPort(ToolsConfig.NO_ADMIN) : config.tools();
    GatewayConfig gs = oneAdmin ? config.gateway().withAdminPort(GatewayConfig.NO_ADMIN) : config.gateway();

    out.printf("sg %s (node %s)%n", role.wire(), config.nodeId());
    if (config.redisUrl().isPresent()) {
      redisUrl = config.redisUrl().get();
      out.printf("  redis    %s%n", ConfigSchema.Redis.URL.mask(redisUrl));
    } else if (role == Role.STANDALONE) {
      Path dir = config.redis().embeddedDir();
      // an append-only file in a kept directory: a restarted standalone finds its pending work
      embedded = EmbeddedRedis.builder().preferredPort(config.redis().embeddedPort()).dataDir(dir)
          .persistence(EmbeddedRedis.Persistence.AOF_FSYNC_EVERYSEC).start();
      started.add(new Component("embedded redis", () -> Mono.fromRunnable(embedded::close)));
      redisUrl = embedded.url();
      out.printf("  redis    %s (embedded Redis 7.0, data in %s)%n", redisUrl, dir);
    } else {
      throw new ConfigException(ConfigSchema.Redis.URL.env(), null,
          "required for 'sg " + role.wire() + "' (only 'sg standalone' starts an embedded Redis)");
    }
    SgConfig cfg = config.withRedisUrl(redisUrl);
    JournalConfig jc = config.journal();
    if (role == Role.STANDALONE && jc.mode() != JournalConfig.Mode.OFF && jc.postgresUrl().isEmpty()) {
      // standalone keeps its history across restarts: an embedded PostgreSQL in a kept directory
      Path dir = jc.embeddedDir();
      embeddedPostgres = EmbeddedPostgres.start(dir, jc.embeddedPort());
      started.add(new Component("embedded postgres", () -> Mono.fromRunnable(embeddedPostgres::close)));
      StartupHeap.compactIfGrown(); // a first start unpacked PostgreSQL's binaries in this JVM: give that heap back
      cfg = cfg.withJournal(jc.withPostgresUrl(embeddedPostgres.url()));
      out.printf("  postgres %s (embedded PostgreSQL 16, data in %s)%n", embeddedPostgres.url(), dir);
    } else if (role.includes(Role.GATEWAY) && jc.enabled(false)) {
      out.printf("  postgres %s%n", ConfigSchema.Journal.POSTGRES_URL.mask(jc.postgresUrl().orElse("")));
    }

    redis = Redis.connect(redisUrl);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    if (role.includes(Role.TOOLS)) {
      RedisEventBus bus = bus(Role.TOOLS, cfg);
      tools = ToolsNode.start(bus, ts, registry);
      started.add(new Component("tools", tools::shutdown));
      out.printf("  tools    %s%s%n", bus.consumerName(), admin(ts.adminHost(), tools.adminPort()));
    }
    if (role.includes(Role.WORKER)) {
      RedisEventBus bus = bus(Role.WORKER, cfg);
      worker = WorkerNode.start(bus, ws, registry);
      started.add(new Component("worker", worker::shutdown));
      out.printf("  worker   %s, handler %s%s%n", bus.consumerName(), ws.handler(), admin(ws.adminHost(), worker.adminPort()));
    }
    if (role.includes(Role.GATEWAY)) {
      RedisEventBus bus = bus(Role.GATEWAY, cfg);
      gatewayBus = bus;
      gateway = GatewayNode.start(bus, gs, registry);
      started.add(new Component("gateway", gateway::shutdown));
      out.printf("  gateway  http://%s:%d  (POST /v1/messages, GET /v1/channels/{id}/events, /v1/ws, /health)%s%n",
          gs.host(), gateway.port(), admin(gs.adminHost(), gateway.adminPort()));
      out.printf("  journal  %s%n", gateway.journal() == null ? "off" : "on (GET /v1/channels/{id}/messages, sg history, sg dlq)");
    }
    if (oneAdmin && config.worker().adminPort() != WorkerConfig.NO_ADMIN) {
      Readiness all = new Readiness(Duration.ofSeconds(2))
          .addAll("gateway.", gateway.readiness())
          .addAll("worker.", worker.readiness())
          .addAll("tools.", tools.readiness());
      admin = AdminServer.start(config.worker().adminHost(), config.worker().adminPort(), registry, all,
          new io.sgstreams.core.ops.OpsApi(gatewayBus, config.gateway().opsKeys(), config.worker().adminHost()).routes());
      started.add(new Component("admin server", () -> {
        admin.dispose();
        return admin.onDispose().timeout(Duration.ofSeconds(2), Mono.empty());
      }));
      out.printf("  admin    http://%s:%d (/health, /ready with every role's checks, /metrics, /v1/streams, /ops)%n",
          config.worker().adminHost(), admin.port());
    }
    out.flush();
  }

  private RedisEventBus bus(Role role, SgConfig cfg) {
    RedisEventBus b = RedisEventBus.create(redis, role, cfg.nodeId(), cfg, registry);
    buses.add(b);
    // every role of every process reports its counter totals: the ops page of any gateway sums the cluster
    reactor.core.Disposable counters = io.sgstreams.core.ops.NodeCounters.start(b);
    started.add(new Component("counter reports of " + b.consumerName(), () -> Mono.fromRunnable(counters::dispose)));
    return b;
  }

  private static String admin(String host, Integer port) {
    return port == null ? "" : ", admin http://" + host + ":" + port + " (/health, /ready, /metrics)";
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

  /** Standalone's one admin server's port, or null when there is none. */
  Integer adminPort() {
    return admin == null ? null : admin.port();
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
