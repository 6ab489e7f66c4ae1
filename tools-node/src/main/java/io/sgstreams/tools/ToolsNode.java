package io.sgstreams.tools;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.HeartbeatRegistry.Heartbeat;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.consume.middleware.Middlewares;
import io.sgstreams.core.metrics.StreamMonitor;
import io.sgstreams.core.ops.AdminServer;
import io.sgstreams.core.ops.Readiness;
import io.sgstreams.core.topology.Role;
import io.sgstreams.tools.internal.ToolDispatcher;
import io.sgstreams.tools.internal.ToolMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;

/**
 * A running tools node: one core {@link Router} over the tools stream (group
 * {@code toolsGroup()}, consumer {@code tools-{node_id}}) dispatching to a {@link ToolRegistry},
 * plus the admin endpoints ({@code /health}, {@code /ready} with checks {@code redis} and
 * {@code consumer}, {@code /metrics}). The bus belongs to the caller and is not closed here.
 */
public final class ToolsNode {
  private static final Logger log = LoggerFactory.getLogger(ToolsNode.class);
  static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
  static final Duration READINESS_TIMEOUT = Duration.ofSeconds(2);

  private final Router router;
  private final DisposableServer admin;
  private final ToolRegistry tools;
  private final Readiness readiness;
  private final Heartbeat heartbeat;
  private final StreamMonitor monitor;
  private final AtomicReference<Mono<Void>> stopping = new AtomicReference<>();

  private ToolsNode(Router router, DisposableServer admin, ToolRegistry tools, Readiness readiness, Heartbeat heartbeat,
      StreamMonitor monitor) {
    this.router = router;
    this.admin = admin;
    this.tools = tools;
    this.readiness = readiness;
    this.heartbeat = heartbeat;
    this.monitor = monitor;
  }

  /**
   * Starts with the built-in tools and the user tools the context class loader's
   * {@link java.util.ServiceLoader} finds. Blocks until the consumer group exists and the admin
   * port is bound: call it from a main or test thread, never an event loop.
   *
   * @param bus a bus created for {@link Role#TOOLS} (or standalone)
   * @param settings the tools section of the configuration ({@code config.tools()})
   * @throws ToolRegistryException on duplicate or invalid tool names
   */
  public static ToolsNode start(RedisEventBus bus, ToolsConfig settings, PrometheusMeterRegistry registry) {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return start(bus, settings, registry, ToolRegistry.load(settings, cl != null ? cl : ToolsNode.class.getClassLoader()));
  }

  /** Starts serving exactly {@code tools}. */
  public static ToolsNode start(RedisEventBus bus, ToolsConfig settings, PrometheusMeterRegistry registry, ToolRegistry tools) {
    Topology t = bus.topology();
    String consumer = bus.consumerName(Role.TOOLS);
    // refuses to start while another live process consumes under this name
    Heartbeat heartbeat = bus.heartbeats().register(consumer).block(bus.heartbeats().ttl().multipliedBy(2).plus(STARTUP_TIMEOUT));
    try {
      bus.ensureGroup(t.toolsStream(), t.toolsGroup()).block(STARTUP_TIMEOUT);
    } catch (RuntimeException e) {
      heartbeat.close();
      throw e;
    }
    ToolDispatcher dispatcher = new ToolDispatcher(bus, tools, settings.toolTimeout(), t.toolsReplyTtl(),
        new ToolMetrics(registry),
        Clock.systemUTC());
    ReceiverOptions options = ReceiverOptions.of(t.toolsStream(), t.toolsGroup(), consumer, bus.config().consumer());
    // traceSpan: the reply carries this node's span of the caller's trace (ToolReply copies the request's headers)
    Router router = Router.create(bus, options, dispatcher, Middlewares.traceSpan()).start();
    StreamMonitor monitor = new StreamMonitor(bus, t.streams()).start(StreamMonitor.DEFAULT_INTERVAL);
    heartbeat.whenLost().subscribe(v -> {
      log.error("tools node {}: another process took this consumer name; stopping at once (its entries stay pending)", consumer);
      router.shutdown(Duration.ZERO).subscribe(x -> {}, x -> {});
    });
    Readiness readiness = new Readiness(READINESS_TIMEOUT)
        .add("redis", bus::ping)
        .addSync("consumer", router::running);
    DisposableServer admin = null;
    if (settings.adminPort() != ToolsConfig.NO_ADMIN) {
      try {
        admin = AdminServer.start(settings.adminHost(), settings.adminPort(), registry, readiness);
      } catch (RuntimeException e) {
        router.shutdown().block(STARTUP_TIMEOUT);
        monitor.close();
        heartbeat.close();
        throw new IllegalStateException("tools node: cannot bind the admin server to " + settings.adminHost() + ":"
            + settings.adminPort() + ": " + e.getMessage(), e);
      }
    }
    log.info("tools node {} serving [{}] from {} (group {}), admin {}", options.consumer(), tools, t.toolsStream(),
        t.toolsGroup(), admin == null ? "off" : "http://" + settings.adminHost() + ":" + admin.port());
    return new ToolsNode(router, admin, tools, readiness, heartbeat, monitor);
  }

  /** The port of /health, /ready and /metrics, or null when the admin server is off. */
  public Integer adminPort() {
    return admin == null ? null : admin.port();
  }

  public ToolRegistry tools() {
    return tools;
  }

  public Readiness readiness() {
    return readiness;
  }

  /** Completes if another process took this node's consumer name (it stalled past the heartbeat TTL): the node stopped. */
  public Mono<Void> whenFatal() {
    return heartbeat.whenLost();
  }

  public StreamMonitor monitor() {
    return monitor;
  }

  /** True while the consumer loop runs. */
  public boolean running() {
    return router.running();
  }

  /**
   * Stops reading, waits for in-flight calls up to the drain timeout (their replies are published
   * and acknowledged; the rest stays pending for another tools node), then closes the admin server.
   * Idempotent.
   */
  public Mono<Void> shutdown() {
    Mono<Void> created = Mono.defer(() -> router.shutdown()
            .doOnSubscribe(x -> monitor.close())
            .then(heartbeat.release())
            .then(Mono.defer(() -> {
              if (admin == null) {
                return Mono.<Void>empty();
              }
              admin.dispose();
              return admin.onDispose();
            })))
        .doOnSuccess(v -> log.info("tools node stopped"))
        .cache();
    return stopping.compareAndSet(null, created) ? created : stopping.get();
  }
}
