package io.sgstreams.gateway.http;

import io.sgstreams.gateway.auth.Caller;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.gateway.fanout.ChannelFeed;
import io.sgstreams.gateway.fanout.ChannelHistory;
import io.sgstreams.gateway.fanout.SlowConsumerException;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.gateway.limit.ResumeBudget;
import io.sgstreams.gateway.limit.StreamSlots;
import java.time.Duration;
import java.util.List;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code GET /v1/channels/{channel_id}/events[?platform=web]}: Server-Sent Events of the
 * channel's replies. {@code id:} is the outbound stream entry id, {@code event: message} (answers
 * and error replies), {@code event: delta} / {@code event: tool_call} (progress of a streamed
 * answer), {@code data:} the reply JSON; {@code Last-Event-ID} (header, or {@code ?last_event_id=})
 * resumes, deltas included; {@code event: reset} when the id is too old (data {@code {reason}}) or
 * when a newer attempt of one answer starts (data {@code {in_reply_to, attempt, reason}});
 * heartbeat comments; a slow client gets
 * {@code event: error} and is disconnected. Every stream ends when the node shuts down.
 */
public final class SseRoute {
  static final String ROUTE = "/v1/channels/{channel_id}/events";

  private final RequestGuard guard;
  private final StreamSlots slots;
  private final ResumeBudget budget;
  private final ChannelFeed feed;
  private final Responses responses;
  private final GatewayMetrics metrics;
  private final Duration heartbeat;
  private final List<String> platforms;
  private final Mono<Void> closing;

  public SseRoute(RequestGuard guard, StreamSlots slots, ResumeBudget budget, ChannelFeed feed, Responses responses,
      GatewayMetrics metrics, Duration heartbeat, List<String> platforms, Mono<Void> closing) {
    this.guard = guard;
    this.slots = slots;
    this.budget = budget;
    this.feed = feed;
    this.responses = responses;
    this.metrics = metrics;
    this.heartbeat = heartbeat;
    this.platforms = platforms;
    this.closing = closing;
  }

  public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    return guard.admit(req)
        .flatMap(caller -> {
          Flux<String> events = events(req, caller);
          // held until the stream ends, however it ends (the client leaving cancels this chain)
          StreamSlots.Slot slot = slots.acquire(caller.tenant());
          metrics.request(ROUTE, 200);
          return res.status(200)
              .header("Content-Type", "text/event-stream; charset=utf-8")
              .header("Cache-Control", "no-cache")
              .header("X-Accel-Buffering", "no")
              .sendString(events.doFinally(s -> slot.release()))
              .then()
              .doFinally(s -> slot.release());
        })
        .onErrorResume(e -> res.hasSentHeaders() ? Mono.empty() : Mono.from(responses.sendError(res, ROUTE, e)));
  }

  private Flux<String> events(HttpServerRequest req, Caller caller) {
    String channel = req.param("channel");
    if (channel == null || channel.isBlank() || channel.length() > MessageRequest.MAX_ID_CHARS) {
      throw ApiError.badRequest("invalid_channel", "channel_id must have 1 to " + MessageRequest.MAX_ID_CHARS + " characters");
    }
    String platform = platform(RequestGuard.query(req, "platform"), platforms);
    String last = lastEventId(req.requestHeaders().get("Last-Event-ID"), RequestGuard.query(req, "last_event_id"));
    Flux<String> replies = feed.open(caller.tenant(), platform, channel, last, budget.of(caller.id()))
        .map(SseRoute::format)
        .onErrorResume(SlowConsumerException.class, e -> Mono.just(event("error", errorJson("slow_consumer", e.getMessage()))));
    Flux<String> beats = Flux.interval(heartbeat, heartbeat).map(t -> ": heartbeat\n\n");
    return Flux.concat(Mono.just(": connected\n\n"), Flux.merge(replies, beats).takeUntil(s -> s.startsWith("event: error")))
        .takeUntilOther(closing)
        .takeUntilOther(guard.revoked(caller));
  }

  static String platform(String raw, List<String> platforms) {
    String p = raw == null || raw.isBlank() ? "web" : raw;
    if (!platforms.contains(p)) {
      throw ApiError.badRequest("unknown_platform", "platform '" + p + "' is not served here; known: " + platforms);
    }
    return p;
  }

  static String lastEventId(String header, String query) {
    String v = header != null && !header.isBlank() ? header.trim() : query;
    if (v == null || v.isBlank()) {
      return null;
    }
    if (!EntryIds.valid(v)) {
      throw ApiError.badRequest("invalid_last_event_id", "Last-Event-ID must be a stream entry id such as 1700000000000-0");
    }
    return v;
  }

  private static String format(ChannelHistory.Item item) {
    if (item instanceof ChannelHistory.Missed m) {
      OutboundEnvelope o = m.event().reply();
      // progress travels under its own event name (delta, tool_call); answers, errors included, as "message"
      String name = o.isProgress() ? o.type() : "message";
      return "id: " + m.event().streamId() + "\nevent: " + name + "\ndata: " + Json.write(Json.reply(o, m.event().streamId())) + "\n\n";
    }
    if (item instanceof ChannelHistory.Superseded s) {
      return event("reset", Json.write(Json.object().put("in_reply_to", s.inReplyTo()).put("attempt", s.attempt())
          .put("reason", "the answer is being produced again (attempt " + s.attempt() + "); discard its earlier deltas")));
    }
    ChannelHistory.Reset r = (ChannelHistory.Reset) item;
    return event("reset", Json.write(Json.object().put("reason", r.reason())));
  }

  private static String event(String name, String data) {
    return "event: " + name + "\ndata: " + data + "\n\n";
  }

  private static String errorJson(String code, String message) {
    ObjectNode n = Json.object();
    n.putObject("error").put("code", code).put("message", message);
    return Json.write(n);
  }
}
