package io.sgstreams.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.HeartbeatRegistry.Heartbeat;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.metrics.StreamMonitor;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.ops.AdminServer;
import io.sgstreams.core.ops.OpsRoutes;
import io.sgstreams.core.ops.Readiness;
import io.sgstreams.gateway.fanout.ChannelFeed;
import io.sgstreams.gateway.fanout.ChannelHistory;
import io.sgstreams.gateway.fanout.RecordCompleter;
import io.sgstreams.gateway.fanout.ReplyHub;
import io.sgstreams.gateway.fanout.ReplyTail;
import io.sgstreams.gateway.http.ApiError;
import io.sgstreams.gateway.http.GatewayMetrics;
import io.sgstreams.gateway.history.JournalLink;
import io.sgstreams.gateway.http.HistoryRoute;
import io.sgstreams.gateway.http.HttpResult;
import io.sgstreams.gateway.http.MessagesRoute;
import io.sgstreams.gateway.http.OriginPolicy;
import io.sgstreams.gateway.http.RequestGuard;
import io.sgstreams.gateway.http.Responses;
import io.sgstreams.gateway.http.SseRoute;
import io.sgstreams.gateway.http.WsRoute;
import io.sgstreams.gateway.limit.IdempotencyStore;
import io.sgstreams.gateway.limit.RateLimiter;
import io.sgstreams.gateway.limit.ResumeBudget;
import io.sgstreams.gateway.limit.StreamSlots;
import io.sgstreams.gateway.webhook.WebhookDelivery;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The gateway node: the client API ({@code POST /v1/messages}, SSE, WebSocket) and {@code /health}
 * on the public port, {@code /health}, {@code /ready} and {@code /metrics} on the admin port;
 * one tail reader per platform outbound stream fanning replies out in-process; the
 * {@code webhook} consumer when a URL is configured. See {@code docs/gateway.md}.
 */
public final class GatewayNode {
  private static final Logger log = LoggerFactory.getLogger(GatewayNode.class);
  /** Requests holding for a reply at once, per node; past this a wait gets 503. */
  static final int MAX_WAITING = 10_000;
  private static final Duration DRAIN = Duration.ofSeconds(10);
  private static final Pattern KNOWN_PATHS = Pattern.compile("/v1/messages|/v1/ws|/v1/channels/[^/]+/(events|messages)|/health");

  private final DisposableServer server;
  private final DisposableServer admin;
  private final List<ReplyTail> tails;
  private final Router webhook;
  private final Sinks.Empty<Void> closing;
  private final ReplyHub hub;
  private final Heartbeat heartbeat;
  private final StreamMonitor monitor;
  private final Readiness readiness;

  private final StreamSlots slots;
  private final JournalLink journal;

  private GatewayNode(DisposableServer server, DisposableServer admin, List<ReplyTail> tails, Router webhook,
      Sinks.Empty<Void> closing, ReplyHub hub, Heartbeat heartbeat, StreamMonitor monitor, Readiness readiness,
      StreamSlots slots, JournalLink journal) {
    this.journal = journal;
    this.server = server;
    this.admin = admin;
    this.slots = slots;
    this.tails = tails;
    this.webhook = webhook;
    this.closing = closing;
    this.hub = hub;
    this.heartbeat = heartbeat;
    this.monitor = monitor;
    this.readiness = readiness;
  }

  /**
   * Provisions the streams and groups (ensureStreams), starts the tail readers, the webhook
   * consumer (when configured) and the HTTP server. Call from a plain thread (it waits for
   * startup), never from an event loop. {@code bus} is a {@link io.sgstreams.core.topology.Role#GATEWAY} bus;
   * {@code s} is the gateway section of the configuration ({@code config.gateway()}).
   *
   * @throws io.sgstreams.core.config.ConfigException naming {@code SG_API_KEYS} when {@code s} has no
   *     API keys and a non-loopback address
   */
  public static GatewayNode start(RedisEventBus bus, GatewayConfig s, PrometheusMeterRegistry registry) {
    s.requireAuthUnlessLoopback();
    bus.config().journal().requireUrlUnlessStandalone(false);
    List<String> platforms = bus.topology().platforms();
    boolean deliversWebhook = s.webhookUrl().isPresent() && platforms.contains(Topology.WEBHOOK_PLATFORM);
    // the webhook consumer refuses to start while another live process consumes under this name
    Heartbeat heartbeat = deliversWebhook
        ? bus.heartbeats().register(bus.consumerName()).block(bus.heartbeats().ttl().multipliedBy(2).plus(Duration.ofSeconds(30)))
        : null;
    // the workers group (so what is accepted before any worker starts is kept for it) and, with a
    // webhook URL, the webhook group; outbound streams are tailed without a group
    bus.ensureStreams(deliversWebhook ? List.of(Topology.WEBHOOK_PLATFORM) : List.of()).block(Duration.ofSeconds(30));

    // a second reply to a request comes from a worker that claimed it after claim_min_idle,
    // possibly on its last delivery: remember replies at least that long
    var consumer = bus.config().consumer();
    Duration dedupWindow = consumer.claimMinIdle().multipliedBy(consumer.maxDeliveries()).plus(Duration.ofMinutes(1));
    ReplyHub hub = new ReplyHub(registry, MAX_WAITING, dedupWindow, ReplyHub.MAX_DEDUP_KEYS);
    IdempotencyStore idempotency = IdempotencyStore.of(bus, s.idempotencyTtl(), s.maxWait());
    RecordCompleter completer = new RecordCompleter(idempotency, registry);
    // one tail per platform and partition (a multi-key XREAD would be CROSSSLOT on a cluster)
    List<ReplyTail> tails = platforms.stream()
        .flatMap(p -> bus.topology().outboundStreams(p).stream())
        .map(stream -> new ReplyTail(bus, stream, e -> {
          if (hub.dispatch(e)) {
            completer.accept(e);
          }
        }))
        .toList();
    Flux.fromIterable(tails).concatMap(ReplyTail::start).then().block(Duration.ofSeconds(30));

    Router webhook = null;
    if (deliversWebhook) {
      webhook = new WebhookDelivery(s.webhookUrl().get(), s.webhookMaxAttempts(), s.webhookBackoff(), s.webhookTimeout())
          .start(bus);
      log.info("gateway: webhook replies are POSTed to {} (up to {} attempts)", WebhookDelivery.redact(s.webhookUrl().get()),
          s.webhookMaxAttempts());
    } else {
      log.info("gateway: SG_WEBHOOK_URL is not set; no webhook consumer runs, webhook replies wait in {}",
          bus.topology().outboundStream(WebhookDelivery.PLATFORM));
    }

    Sinks.Empty<Void> closing = Sinks.empty();
    Mono<Void> closed = closing.asMono();
    GatewayMetrics metrics = new GatewayMetrics(registry);
    Responses responses = new Responses(metrics);
    RequestGuard guard = RequestGuard.create(bus, s); // auth (SG_API_KEYS and stored keys), rate limits; logs which
    // the journal (when on): every envelope and dead letter into PostgreSQL, history, resumes past the streams' retention
    JournalLink journal = JournalLink.start(bus, registry).orElse(null);
    ChannelFeed feed = new ChannelFeed(hub, new ChannelHistory(bus, journal), bus.topology());
    HistoryRoute history = new HistoryRoute(guard, journal, responses, metrics, platforms, bus.codec());
    StreamSlots slots = new StreamSlots(s.maxStreamsPerTenant(), registry);
    ResumeBudget budget = new ResumeBudget(bus, s.resumeScanPerMinute(), Clock.systemUTC());
    MessagesRoute messages = new MessagesRoute(bus, guard, hub, idempotency, responses, s.maxWait(), s.maxBodyBytes());
    SseRoute sse = new SseRoute(guard, slots, budget, feed, responses, metrics, s.sseHeartbeat(), platforms, closed);
    WsRoute ws = new WsRoute(bus, guard, new OriginPolicy(s.allowedOrigins()), slots, budget, feed, responses, metrics,
        s.sseHeartbeat(), s.maxBodyBytes(), closed);

    Router wh = webhook;
    Readiness readiness = new Readiness(Duration.ofSeconds(2))
        .add("redis", bus::ping)
        .addSync("outbound_readers", () -> tails.stream().allMatch(ReplyTail::alive));
    if (wh != null) {
      readiness.addSync("webhook_consumer", wh::running);
    }

    DisposableServer server = HttpServer.create()
        .host(s.host())
        .port(s.port())
        // a connection must send a whole request head within idleTimeout (partial header bytes do
        // not count as activity: the handler sits after the HTTP decoder), then its body with no
        // pause over readTimeout and whole within requestTimeout
        .idleTimeout(s.idleTimeout())
        .readTimeout(s.readTimeout())
        .requestTimeout(s.requestTimeout())
        .route(r -> {
          r.get("/health", OpsRoutes.health());
          r.post("/v1/messages", messages::handle)
              .get("/v1/channels/{channel}/events", sse::handle)
              .get("/v1/channels/{channel}/messages", history::handle)
              .get("/v1/ws", ws::handle)
              .route(req -> true, (req, res) -> fallback(req, res, responses));
        })
        .bindNow(Duration.ofSeconds(30));
    DisposableServer admin = null;
    if (s.adminPort() != GatewayConfig.NO_ADMIN) {
      try {
        admin = AdminServer.start(s.adminHost(), s.adminPort(), registry, readiness,
            new io.sgstreams.core.ops.OpsApi(bus, s.opsKeys(), s.adminHost()).routes());
      } catch (RuntimeException e) {
        server.disposeNow(Duration.ofSeconds(5));
        throw e;
      }
    }
    StreamMonitor monitor = new StreamMonitor(bus, bus.topology().streams()).start(StreamMonitor.DEFAULT_INTERVAL);
    if (heartbeat != null) {
      Router w = webhook;
      heartbeat.whenLost().subscribe(v -> {
        log.error("gateway {}: another process took this consumer name; the webhook consumer stops at once", bus.consumerName());
        w.shutdown(Duration.ZERO).subscribe(x -> {}, x -> {});
      });
    }
    log.info("gateway listening on http://{}:{} (auth {}, platforms {}); admin {}", s.host(), server.port(),
        s.authEnabled() ? "on" : "OFF", platforms, admin == null ? "off" : "http://" + s.adminHost() + ":" + admin.port());
    return new GatewayNode(server, admin, tails, webhook, closing, hub, heartbeat, monitor, readiness, slots, journal);
  }

  /** The admin server's port ({@code /health}, {@code /ready}, {@code /metrics}), or null when it is off. */
  public Integer adminPort() {
    return admin == null ? null : admin.port();
  }

  /** SSE streams and WebSockets {@code tenant} holds open on this node. */
  public int openStreams(String tenant) {
    return slots.open(tenant);
  }

  /** The bound port (useful with SG_HTTP_PORT=0). */
  public int port() {
    return server.port();
  }

  /** Completes if another process took the webhook consumer's name (it stalled past the heartbeat TTL). */
  public Mono<Void> whenFatal() {
    return heartbeat == null ? Mono.never() : heartbeat.whenLost();
  }

  public StreamMonitor monitor() {
    return monitor;
  }

  /** The checks of this node's {@code /ready} ({@code redis}, {@code outbound_readers}, {@code webhook_consumer}). */
  public Readiness readiness() {
    return readiness;
  }

  /** The journal, or null when it is off. */
  public JournalLink journal() {
    return journal;
  }

  /** Requests currently holding for a reply. */
  public int waitingRequests() {
    return hub.waiting();
  }

  /**
   * Graceful stop: ends SSE / WebSocket streams, stops accepting and waits up to 10 s for
   * in-flight requests, then stops the tail readers and drains the webhook consumer.
   */
  public Mono<Void> shutdown() {
    return Mono.defer(() -> {
      closing.tryEmitEmpty();
      Mono<Void> http = Mono.<Void>fromRunnable(() -> server.disposeNow(DRAIN))
          .subscribeOn(Schedulers.boundedElastic())
          .onErrorResume(e -> {
            log.warn("gateway: HTTP server did not stop cleanly: {}", e.toString());
            return Mono.empty();
          });
      Mono<Void> readers = Flux.fromIterable(tails).flatMap(ReplyTail::stop).then();
      monitor.close();
      Mono<Void> wh = webhook == null ? Mono.empty() : webhook.shutdown();
      Mono<Void> hb = heartbeat == null ? Mono.empty() : heartbeat.release();
      Mono<Void> ops = admin == null ? Mono.empty()
          : Mono.<Void>fromRunnable(admin::dispose).then(admin.onDispose().timeout(Duration.ofSeconds(2), Mono.empty()));
      Mono<Void> jr = journal == null ? Mono.empty() : journal.shutdown();
      return http.then(readers).then(wh).then(jr).then(hb).then(ops)
          .doOnSuccess(v -> log.info("gateway on port {} stopped", server.port()));
    });
  }

  private static Publisher<Void> fallback(HttpServerRequest req, HttpServerResponse res, Responses responses) {
    String path = req.fullPath();
    if (KNOWN_PATHS.matcher(path).matches()) {
      res.header("Allow", path.equals("/v1/messages") ? "POST" : "GET");
      return responses.send(res, "other", HttpResult.of(405,
          new ApiError(405, "method_not_allowed", req.method().name() + " is not allowed on " + path).body()));
    }
    return responses.send(res, "other", HttpResult.of(404, new ApiError(404, "not_found", "no route " + path).body()));
  }
}
