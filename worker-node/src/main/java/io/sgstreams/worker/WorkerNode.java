package io.sgstreams.worker;

import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.journal.JournalStore;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.HeartbeatRegistry.Heartbeat;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.consume.middleware.Middlewares;
import io.sgstreams.core.metrics.StreamMonitor;
import io.sgstreams.core.ops.AdminServer;
import io.sgstreams.core.ops.Readiness;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.handlers.HandlerRegistry;
import io.sgstreams.worker.metrics.WorkerMetrics;
import io.sgstreams.worker.tools.ToolsClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;

/**
 * A worker: consumes the inbound stream with core's {@link Router} (group {@code sg:workers},
 * consumer {@code worker-{node_id}}), runs the handler chosen by {@code SG_WORKER_HANDLER} on
 * each message and publishes its replies; owns one {@link ToolsClient} for tool calls and,
 * unless {@code worker.admin_port} is -1, an admin server with {@code /health}, {@code /ready}
 * (Redis reachable, consumer loop alive) and {@code /metrics}.
 */
public final class WorkerNode {
  private static final Logger log = LoggerFactory.getLogger(WorkerNode.class);

  private final RedisEventBus bus;
  private final Router router;
  private final io.sgstreams.core.consume.PartitionedRouter partitioned;
  private final ToolsClient tools;
  private final DisposableServer admin;
  private final String consumer;
  private final Heartbeat heartbeat;
  private final StreamMonitor monitor;
  private final Readiness readiness;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private final JournalStore journal;

  private WorkerNode(RedisEventBus bus, Router router, io.sgstreams.core.consume.PartitionedRouter partitioned,
      ToolsClient tools, DisposableServer admin, String consumer,
      Heartbeat heartbeat, StreamMonitor monitor, Readiness readiness, JournalStore journal) {
    this.journal = journal;
    this.bus = bus;
    this.router = router;
    this.partitioned = partitioned;
    this.tools = tools;
    this.admin = admin;
    this.consumer = consumer;
    this.heartbeat = heartbeat;
    this.monitor = monitor;
    this.readiness = readiness;
  }

  /**
   * Provisions the worker group and the tool reply stream, builds the handler, starts consuming
   * and binds the admin server. Blocks the calling thread until ready (a startup call, never on
   * an event loop).
   *
   * @param bus created by the caller for {@link Role#WORKER} (or STANDALONE); not closed by the node
   * @param settings the worker section of the configuration ({@code config.worker()})
   * @throws io.sgstreams.core.config.ConfigException for an unknown {@code SG_WORKER_HANDLER}
   */
  public static WorkerNode start(RedisEventBus bus, WorkerConfig settings, PrometheusMeterRegistry registry) {
    return start(bus, settings, registry, Thread.currentThread().getContextClassLoader());
  }

  /** As {@link #start(RedisEventBus, WorkerConfig, PrometheusMeterRegistry)}, looking for user handlers in {@code loader}. */
  public static WorkerNode start(RedisEventBus bus, WorkerConfig settings, PrometheusMeterRegistry registry, ClassLoader loader) {
    HandlerFactory factory = HandlerRegistry.find(settings.handler(), loader);
    var topology = bus.topology();
    String consumer = bus.consumerName(Role.WORKER);
    Duration startupWait = bus.commandTimeout().multipliedBy(2);
    // refuses to start while another live process consumes under this name
    Heartbeat heartbeat = bus.heartbeats().register(consumer).block(bus.heartbeats().ttl().multipliedBy(2).plus(startupWait));
    try {
      bus.ensureStreams(java.util.List.of()).block(startupWait);
    } catch (RuntimeException e) {
      heartbeat.close();
      throw e;
    }

    WorkerMetrics metrics = new WorkerMetrics(registry);
    ToolsClient tools;
    try {
      tools = ToolsClient.start(bus, metrics, settings.maxPendingToolCalls(), topology.toolsReplyTtl(),
          io.sgstreams.core.resilience.Guard.of("tools", bus.config().resilience(), null, registry)).block(startupWait);
    } catch (RuntimeException e) {
      heartbeat.close();
      throw e;
    }
    // the journal's tables, for handlers that read a conversation's history (the openai handler's memory)
    JournalConfig jc = bus.config().journal();
    JournalStore journal = jc.mode() != JournalConfig.Mode.OFF && jc.postgresUrl().isPresent()
        ? JournalStore.connect(jc.postgresUrl().get(), Math.min(jc.poolSize(), 2)) : null;
    Router router = null;
    io.sgstreams.core.consume.PartitionedRouter partitioned = null;
    DisposableServer admin = null;
    StreamMonitor monitor = null;
    Readiness readiness = null;
    try {
      Handler handler = factory.create(new WorkerContext(bus, bus.config(), settings, tools, registry,
          java.util.Optional.ofNullable(journal)));
      // every partition's inbound stream (one with SG_PARTITIONS=1)
      ReceiverOptions opts = ReceiverOptions.of(topology.inboundStream(0), topology.workerGroup(), consumer,
          bus.config().consumer()).withStreams(topology.inboundStreams());
      java.util.List<io.sgstreams.core.consume.Middleware> chain =
          java.util.List.of(Middlewares.traceSpan(), Middlewares.timeout(settings.handlerTimeout()));
      var pc = bus.config().partitions();
      if (pc.leased()) {
        // one owner per partition (lease), one Router per owned partition; order per conversation across pods
        partitioned = new io.sgstreams.core.consume.PartitionedRouter(bus, opts, pc.leaseTtl(),
            (receiver, publisher) -> Router.create(receiver, publisher, bus.metrics(), handler, chain,
                WorkerNode::deadLetterReply)).start();
      } else {
        // shared: every worker reads every partition; with SG_ORDERING=channel-lock conversations keep
        // their order across workers (ticket queues, ChannelTurns)
        StreamReceiver receiver = pc.channelLock() ? StreamReceiver.channelOrdered(bus, opts) : StreamReceiver.create(bus, opts);
        router = Router.create(receiver, bus, bus.metrics(), handler, chain,
            WorkerNode::deadLetterReply).start();
      }
      java.util.List<String> watched = new java.util.ArrayList<>(topology.streams());
      watched.add(tools.replyStream());
      monitor = new StreamMonitor(bus, watched).start(StreamMonitor.DEFAULT_INTERVAL);
      Router r = router;
      var pr = partitioned;
      readiness = new Readiness(Duration.ofSeconds(2))
          .add("redis", bus::ping)
          .addSync("consumer", () -> r != null ? r.running() : pr.running());
      if (settings.adminPort() != WorkerConfig.NO_ADMIN) {
        admin = AdminServer.start(settings.adminHost(), settings.adminPort(), registry, readiness);
      }
    } catch (RuntimeException e) {
      // a half-started node must not leave readers running (e.g. the admin port is taken)
      if (router != null) {
        router.shutdown(Duration.ZERO).onErrorResume(x -> Mono.empty()).block(startupWait);
      }
      if (partitioned != null) {
        partitioned.shutdown(Duration.ZERO).onErrorResume(x -> Mono.empty()).block(startupWait);
      }
      tools.close().onErrorResume(x -> Mono.empty()).block(startupWait);
      if (journal != null) {
        journal.close();
      }
      if (monitor != null) {
        monitor.close();
      }
      heartbeat.close();
      throw e;
    }
    Router r = router;
    var pr = partitioned;
    heartbeat.whenLost().subscribe(v -> {
      log.error("worker {}: another process took this consumer name; stopping at once (its entries stay pending)", consumer);
      (r != null ? r.shutdown(Duration.ZERO) : pr.shutdown(Duration.ZERO)).subscribe(x -> {}, x -> {});
    });
    log.info("worker {} consuming {} (group {}, {} partition{}, {}) with handler '{}'; admin {}", consumer,
        topology.inboundStream(), topology.workerGroup(), topology.partitions(), topology.partitions() == 1 ? "" : "s",
        pr != null ? "leased" : "shared", factory.name(),
        admin == null ? "off" : "http://" + settings.adminHost() + ":" + admin.port());
    return new WorkerNode(bus, router, partitioned, tools, admin, consumer, heartbeat, monitor, readiness, journal);
  }

  /**
   * A client is never left waiting: when its message is dead-lettered (the delivery limit, a
   * handler timeout or failure on the last attempt, a permanent failure), its conversation gets an
   * {@code error} reply with a code and a generic message (details stay in the log and the DLQ).
   */
  static java.util.Optional<io.sgstreams.core.consume.Reply> deadLetterReply(io.sgstreams.core.consume.Delivery d, Throwable cause) {
    if (!(d.envelope() instanceof io.sgstreams.core.envelope.InboundEnvelope in)) {
      return java.util.Optional.empty();
    }
    boolean timeout = cause instanceof java.util.concurrent.TimeoutException;
    String code = timeout ? "timeout" : "dead_lettered";
    String message = timeout ? "the message took too long to process and was given up; please try again"
        : "the message could not be processed; please try again later";
    return java.util.Optional.of(io.sgstreams.core.consume.Reply.outbound(
        io.sgstreams.core.envelope.OutboundEnvelope.error(in, code, message)));
  }

  /** The admin server's port, or null when it is off. */
  public Integer adminPort() {
    return admin == null ? null : admin.port();
  }

  /** Completes if another process took this node's consumer name (it stalled past the heartbeat TTL): the node stopped. */
  public Mono<Void> whenFatal() {
    return heartbeat.whenLost();
  }

  public StreamMonitor monitor() {
    return monitor;
  }

  /** The checks of this node's {@code /ready} ({@code redis}, {@code consumer}), whether or not it runs an admin server. */
  public Readiness readiness() {
    return readiness;
  }

  /** {@code worker-{node_id}}. */
  public String consumerName() {
    return consumer;
  }

  public ToolsClient tools() {
    return tools;
  }

  /** The consumer loop in shared assignment (every partition, one Router); null with leased partitions. */
  public Router router() {
    return router;
  }

  /** The per-partition Routers with leased partitions ({@code SG_PARTITION_ASSIGNMENT=lease}); null otherwise. */
  public io.sgstreams.core.consume.PartitionedRouter partitioned() {
    return partitioned;
  }

  /** Graceful: stop reading, drain in-flight handlers up to the configured drain timeout, close the tools client and the admin server. */
  public Mono<Void> shutdown() {
    return shutdown(bus.config().consumer().drainTimeout());
  }

  /**
   * As {@link #shutdown()} with another drain timeout; {@link Duration#ZERO} abandons in-flight
   * work at once (it stays pending and another worker claims it).
   */
  public Mono<Void> shutdown(Duration drainTimeout) {
    return Mono.defer(() -> {
      if (!stopped.compareAndSet(false, true)) {
        return router != null ? router.whenFinished() : partitioned.whenFinished();
      }
      monitor.close();
      return (router != null ? router.shutdown(drainTimeout) : partitioned.shutdown(drainTimeout))
          .then(tools.close())
          .then(Mono.fromRunnable(() -> {
            if (journal != null) {
              journal.close();
            }
          }))
          .then(heartbeat.release())
          .then(Mono.defer(() -> {
            if (admin == null) {
              return Mono.<Void>empty();
            }
            admin.dispose(); // non-blocking; onDispose completes once the port is closed
            return admin.onDispose().timeout(Duration.ofSeconds(2), Mono.empty());
          }))
          .doOnTerminate(() -> log.info("worker {} stopped", consumer));
    });
  }
}
