package io.sgstreams.gateway.http;

import io.sgstreams.gateway.auth.Caller;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.trace.TraceParent;
import io.sgstreams.gateway.fanout.ChannelFeed;
import io.sgstreams.gateway.fanout.ChannelHistory;
import io.sgstreams.gateway.fanout.SlowConsumerException;
import io.sgstreams.gateway.limit.RateLimiter;
import io.sgstreams.gateway.limit.ResumeBudget;
import io.sgstreams.gateway.limit.StreamSlots;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import org.reactivestreams.Publisher;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * {@code GET /v1/ws}: a WebSocket per client. Client frames (JSON text):
 * {@code {"type":"subscribe","channel_id":..,"platform"?,"last_event_id"?}},
 * {@code {"type":"unsubscribe","channel_id":..}}, {@code {"type":"message", ...POST fields}},
 * {@code {"type":"ping"}}. Server frames: {@code subscribed}, {@code reply} (the reply JSON with
 * {@code stream_id}; {@code reply_type} is the reply's type, {@code message} or {@code error}),
 * {@code delta} and {@code tool_call} (progress of a streamed answer, with {@code seq} and
 * {@code attempt}), {@code reset} (the resume id is too old, or with {@code in_reply_to}: a newer
 * attempt of that answer started), {@code ack} ({@code id, correlation_id, stream_id}),
 * {@code pong}, {@code error}. The server pings every heartbeat; Netty answers client pings.
 * Outgoing frames go through one bounded queue: a client that falls behind is closed with 1008.
 */
public final class WsRoute {
  static final String ROUTE = "/v1/ws";
  static final int OUT_QUEUE = 512;
  static final int MAX_SUBSCRIPTIONS = 64;

  private final RedisEventBus bus;
  private final RequestGuard guard;
  private final OriginPolicy origins;
  private final StreamSlots slots;
  private final ResumeBudget budget;
  private final ChannelFeed feed;
  private final Responses responses;
  private final GatewayMetrics metrics;
  private final Duration heartbeat;
  private final int maxFrameBytes;
  private final List<String> platforms;
  private final Mono<Void> closing;

  public WsRoute(RedisEventBus bus, RequestGuard guard, OriginPolicy origins, StreamSlots slots, ResumeBudget budget,
      ChannelFeed feed, Responses responses, GatewayMetrics metrics, Duration heartbeat, int maxFrameBytes, Mono<Void> closing) {
    this.bus = bus;
    this.guard = guard;
    this.origins = origins;
    this.slots = slots;
    this.budget = budget;
    this.feed = feed;
    this.responses = responses;
    this.metrics = metrics;
    this.heartbeat = heartbeat;
    this.maxFrameBytes = maxFrameBytes;
    this.platforms = bus.topology().platforms();
    this.closing = closing;
  }

  public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    return Mono.fromRunnable(() -> origins.check(req))
        .then(guard.admit(req))
        .flatMap(caller -> {
          StreamSlots.Slot slot = slots.acquire(caller.tenant());
          metrics.request(ROUTE, 101);
          // the upgrade's Mono completes once the handshake is done; the session runs on and
          // releases the slot when it ends. A failed or abandoned handshake releases it here.
          return res.sendWebsocket((in, out) -> new Session(caller, slot).run(in, out),
                  WebsocketServerSpec.builder().maxFramePayloadLength(maxFrameBytes).build())
              .doOnError(e -> slot.release())
              .doOnCancel(slot::release)
              .then();
        })
        .onErrorResume(e -> res.hasSentHeaders() ? Mono.empty() : Mono.from(responses.sendError(res, ROUTE, e)));
  }

  /** One connection: its subscriptions and its bounded outgoing queue. */
  private final class Session {
    private final Caller caller;
    private final StreamSlots.Slot slot;
    private final Sinks.Many<WebSocketFrame> out =
        Sinks.many().unicast().onBackpressureBuffer(new ArrayBlockingQueue<>(OUT_QUEUE), () -> {});
    private final Map<String, Disposable> subscriptions = new ConcurrentHashMap<>();
    private volatile boolean overflowed;

    /** Set once the caller is rate limited: frames are refused here until then, without asking Redis each time. */
    private volatile long limitedUntil;
    private volatile RateLimiter.RateLimited limited;

    Session(Caller caller, StreamSlots.Slot slot) {
      this.caller = caller;
      this.slot = slot;
    }

    Publisher<Void> run(WebsocketInbound in, WebsocketOutbound outbound) {
      Mono<Void> incoming = in.aggregateFrames(maxFrameBytes).receiveFrames()
          .filter(f -> f instanceof TextWebSocketFrame)
          .map(f -> ((TextWebSocketFrame) f).text())
          .concatMap(this::onText)
          .then()
          .doFinally(s -> close());
      Flux<WebSocketFrame> frames = Flux.merge(
              out.asFlux(),
              Flux.interval(heartbeat, heartbeat).map(t -> (WebSocketFrame) new PingWebSocketFrame()))
          .takeUntilOther(closing)
          .takeUntilOther(guard.revoked(caller))
          .takeUntilOther(incoming.onErrorResume(e -> Mono.empty()))
          .concatWith(Mono.fromSupplier(() -> overflowed
              ? new CloseWebSocketFrame(1008, "client too slow: more than " + OUT_QUEUE + " frames queued")
              : new CloseWebSocketFrame(1000, "bye")));
      return outbound.sendObject(frames).then().doFinally(s -> close());
    }

    /** Every frame costs one unit of the caller's rate limit, whatever its type (or if it is garbage). */
    private Mono<Void> charge() {
      RateLimiter.RateLimited l = limited;
      if (l != null && System.currentTimeMillis() < limitedUntil) {
        return Mono.error(l);
      }
      return guard.charge(caller).doOnError(RateLimiter.RateLimited.class, e -> {
        limited = e;
        limitedUntil = System.currentTimeMillis() + e.retryAfterSeconds() * 1000;
      });
    }

    private Mono<Void> onText(String text) {
      return charge().then(Mono.defer(() -> {
        JsonNode node;
        try {
          node = Json.readTree(text);
        } catch (Exception e) {
          throw ApiError.badRequest("invalid_json", "the frame is not valid JSON");
        }
        if (node == null || !node.isObject() || !node.path("type").isTextual()) {
          throw ApiError.badRequest("invalid_frame", "a frame must be a JSON object with a string 'type'");
        }
        String type = node.get("type").asText();
        switch (type) {
          case "subscribe" -> subscribe(node);
          case "unsubscribe" -> unsubscribe(node);
          case "ping" -> emit(Json.object().put("type", "pong"));
          case "message" -> {
            return message(node);
          }
          default -> throw ApiError.badRequest("unknown_type", "unknown frame type '" + type + "'");
        }
        return Mono.<Void>empty();
      })).onErrorResume(e -> {
        HttpResult r = Responses.error(e, ROUTE);
        ObjectNode n = ((ObjectNode) r.body().deepCopy()).put("type", "error").put("status", r.status());
        emit(n);
        return Mono.empty();
      });
    }

    private void subscribe(JsonNode node) {
      String channel = text(node, "channel_id");
      String platform = SseRoute.platform(node.path("platform").isTextual() ? node.get("platform").asText() : null, platforms);
      String last = SseRoute.lastEventId(null, node.path("last_event_id").isTextual() ? node.get("last_event_id").asText() : null);
      String key = platform + '\u0000' + channel;
      if (subscriptions.containsKey(key)) {
        throw ApiError.badRequest("already_subscribed", "already subscribed to " + channel);
      }
      if (subscriptions.size() >= MAX_SUBSCRIPTIONS) {
        throw ApiError.badRequest("too_many_subscriptions", "at most " + MAX_SUBSCRIPTIONS + " channels per connection");
      }
      // register in the hub now, so the "subscribed" frame means replies from here on arrive
      Disposable d = feed.open(caller.tenant(), platform, channel, last, budget.of(caller.id())).subscribe(
          item -> emit(frame(item)),
          e -> {
            subscriptions.remove(key);
            if (e instanceof SlowConsumerException) {
              onOverflow();
            }
          });
      subscriptions.put(key, d);
      emit(Json.object().put("type", "subscribed").put("channel_id", channel).put("platform", platform));
    }

    private void unsubscribe(JsonNode node) {
      String channel = text(node, "channel_id");
      String platform = SseRoute.platform(node.path("platform").isTextual() ? node.get("platform").asText() : null, platforms);
      Disposable d = subscriptions.remove(platform + '\u0000' + channel);
      if (d != null) {
        d.dispose();
      }
      emit(Json.object().put("type", "unsubscribed").put("channel_id", channel));
    }

    private Mono<Void> message(JsonNode node) {
      MessageRequest m = MessageRequest.from(node, platforms, maxFrameBytes);
      // a frame has no headers of its own: each message starts its own trace
      InboundEnvelope env = MessagesRoute.toEnvelope(m).withTenant(caller.tenant())
          .withHeader(TraceParent.HEADER, TraceParent.generate().header());
      return bus.publishInbound(env)
          .doOnNext(sid -> emit(MessagesRoute.accepted(env, sid).put("type", "ack")))
          .then();
    }

    private ObjectNode frame(ChannelHistory.Item item) {
      if (item instanceof ChannelHistory.Missed m) {
        OutboundEnvelope o = m.event().reply();
        // frame type: "reply" for answers and error replies, the reply's own type for progress
        return Json.reply(o, m.event().streamId()).put("type", o.isProgress() ? o.type() : "reply").put("reply_type", o.type());
      }
      if (item instanceof ChannelHistory.Superseded s) {
        return Json.object().put("type", "reset").put("in_reply_to", s.inReplyTo()).put("attempt", s.attempt())
            .put("reason", "the answer is being produced again (attempt " + s.attempt() + "); discard its earlier deltas");
      }
      return Json.object().put("type", "reset").put("reason", ((ChannelHistory.Reset) item).reason());
    }

    private void emit(ObjectNode json) {
      TextWebSocketFrame f = new TextWebSocketFrame(Json.write(json));
      Sinks.EmitResult r;
      synchronized (this) { // feeds run on Redis threads, frames on the Netty thread
        r = out.tryEmitNext(f);
      }
      if (r.isFailure()) {
        f.release();
        if (r == Sinks.EmitResult.FAIL_OVERFLOW) {
          onOverflow();
        }
      }
    }

    private void onOverflow() {
      overflowed = true;
      synchronized (this) {
        out.tryEmitComplete();
      }
    }

    private void close() {
      slot.release();
      subscriptions.values().forEach(Disposable::dispose);
      subscriptions.clear();
      synchronized (this) {
        out.tryEmitComplete();
      }
    }

    private static String text(JsonNode node, String field) {
      JsonNode n = node.get(field);
      if (n == null || !n.isTextual() || n.asText().isBlank()) {
        throw ApiError.badRequest("missing_field", field + " is required (a non-empty string)");
      }
      if (n.asText().length() > MessageRequest.MAX_ID_CHARS) {
        throw ApiError.badRequest("invalid_field", field + " is too long");
      }
      return n.asText();
    }
  }
}
