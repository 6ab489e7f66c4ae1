package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.BacklogFullException;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.EnvelopeTooLargeException;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.trace.LogContext;
import io.sgstreams.core.trace.TraceParent;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.fanout.ReplyHub;
import io.sgstreams.gateway.limit.IdempotencyStore;
import io.sgstreams.gateway.limit.IdempotencyStore.Bound;
import io.sgstreams.gateway.limit.IdempotencyStore.State;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code POST /v1/messages}: validate, publish the inbound envelope, answer 202
 * {@code {id, correlation_id, stream_id}}; with {@code ?wait=S} (capped) hold until the reply
 * arrives (200 with the reply) or answer 504 {@code {error, id}}.
 *
 * <p>Once the body is read and valid, publishing runs to its end whether or not the client stays
 * (so a client hanging up mid-publish never leaves a half-done request behind); what the client
 * holds (its waiting slot) is released however the request ends, hang-ups included.
 * {@code Idempotency-Key} binds the key to the message ({@link IdempotencyStore}): a retry never
 * publishes again; it gets the message's reply, or waits for it like the first request, or its 202.
 *
 * <p>Tracing: the request's {@code traceparent} header (W3C; when absent or invalid a new trace is
 * started) is the parent of the gateway's own span for the request. That span goes into the
 * inbound envelope's {@code headers} (so the worker and tools continue the trace) and back to the
 * client as the response's {@code traceparent}, whatever the status.
 */
public final class MessagesRoute {
  static final String ROUTE = "/v1/messages";
  private static final Logger log = LoggerFactory.getLogger(MessagesRoute.class);

  private final RedisEventBus bus;
  private final RequestGuard guard;
  private final ReplyHub hub;
  private final IdempotencyStore idempotency;
  private final Responses responses;
  private final Duration maxWait;
  private final int maxBodyBytes;
  private final List<String> platforms;

  public MessagesRoute(RedisEventBus bus, RequestGuard guard, ReplyHub hub, IdempotencyStore idempotency,
      Responses responses, Duration maxWait, int maxBodyBytes) {
    this.bus = bus;
    this.guard = guard;
    this.hub = hub;
    this.idempotency = idempotency;
    this.responses = responses;
    this.maxWait = maxWait;
    this.maxBodyBytes = maxBodyBytes;
    this.platforms = bus.topology().platforms();
  }

  public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    TraceParent span = span(req.requestHeaders().get(TraceParent.HEADER));
    res.header(TraceParent.HEADER, span.header());
    Mono<HttpResult> result = guard.admit(req).flatMap(caller -> {
      requireJson(req);
      Duration wait = parseWait(RequestGuard.query(req, "wait"));
      String idemHeader = req.requestHeaders().get("Idempotency-Key");
      String key = idemHeader == null ? null : idempotency.key(caller, idemHeader.trim());
      return readBody(req).flatMap(body -> accept(caller, body, wait, key, span));
    }).onErrorResume(e -> {
      try (var ctx = LogContext.of(span.traceId(), null, null)) {
        return Mono.just(Responses.error(e, ROUTE));
      }
    });
    return result.flatMapMany(r -> responses.send(res, ROUTE, r)).then();
  }

  /**
   * A browser sends a cross-site POST without asking first only for form content types; a JSON
   * content type makes it ask (CORS preflight, which this API does not grant), so a page of
   * another site cannot post messages with a visitor's access to the gateway.
   */
  static void requireJson(HttpServerRequest req) {
    String ct = req.requestHeaders().get("Content-Type");
    String type = ct == null ? "" : ct.split(";", 2)[0].trim();
    if (!type.equalsIgnoreCase("application/json")) {
      throw new ApiError(415, "unsupported_media_type", "the body must be JSON sent with 'Content-Type: application/json'");
    }
  }

  /** The gateway's span for a request: a child of the client's valid {@code traceparent}, else a new trace. */
  static TraceParent span(String traceparent) {
    TraceParent in = TraceParent.parse(traceparent);
    return in == null ? TraceParent.generate() : in.child();
  }

  /** How publishing went: our message is in the stream, or the key is bound to another message already. */
  private sealed interface Outcome {}

  private record Published(String streamId) implements Outcome {}

  private record AlreadyBound(Bound record) implements Outcome {}

  /** Validates, publishes as the caller's tenant, and (with a wait) holds for the reply. */
  Mono<HttpResult> accept(Caller caller, byte[] body, Duration wait, String key, TraceParent span) {
    return Mono.defer(() -> {
      MessageRequest m = MessageRequest.parse(body, platforms, maxBodyBytes);
      InboundEnvelope parsed = toEnvelope(m).withTenant(caller.tenant()).withHeader(TraceParent.HEADER, span.header());
      InboundEnvelope in = key == null ? parsed : parsed.withHeader(IdempotencyStore.RECORD_HEADER, key);
      // registered before anything is published, so the reply cannot be missed; released in doFinally
      ReplyHub.Waiter waiter = wait.isZero() ? null : hub.await(caller.tenant(), in.id());
      Mono<Outcome> work = key == null
          ? bus.publishInbound(in).map(Published::new)
          : claimAndPublish(key, in, 0);
      return detached(work)
          .flatMap(outcome -> {
            if (outcome instanceof AlreadyBound b) {
              if (waiter != null) {
                waiter.cancel(); // ours was for a message that will not be published
              }
              return replay(caller, key, b.record(), wait);
            }
            String sid = ((Published) outcome).streamId();
            if (waiter == null) {
              return Mono.just(HttpResult.of(202, accepted(in, sid)));
            }
            return waiter.reply(wait).flatMap(reply -> reply
                .map(r -> answered(key, in.id(), Json.reply(r.reply(), r.streamId())))
                .orElseGet(() -> Mono.just(HttpResult.of(504, timedOut(in.id(), in.correlationId(), sid, wait)))));
          })
          .onErrorResume(e -> {
            try (var ctx = LogContext.of(in)) {
              return Mono.just(Responses.error(e, ROUTE, in.correlationId()));
            }
          })
          .doFinally(s -> {
            if (waiter != null) {
              waiter.cancel();
            }
          });
    });
  }

  /**
   * Runs {@code work} to its end even if the subscriber goes away: a publish the client stops
   * waiting for still completes and binds its Idempotency-Key, instead of stopping somewhere
   * between the claim, the XADD and the binding.
   */
  private static <T> Mono<T> detached(Mono<T> work) {
    return Mono.fromFuture(work.toFuture(), true);
  }

  /**
   * Claims the key for {@code in}, publishes, binds the key to the published message. A key
   * claimed already gives the record found instead; a failure to bind is logged, never turned
   * into an error (the message is published: the client must hear so).
   */
  private Mono<Outcome> claimAndPublish(String key, InboundEnvelope in, int attempt) {
    return idempotency.claim(key, in).flatMap(claimed -> {
      if (!claimed) {
        return idempotency.read(key).flatMap(found -> found.isPresent()
            ? Mono.<Outcome>just(new AlreadyBound(found.get()))
            // the record expired between the claim and the read: claim again, once
            : attempt == 0 ? claimAndPublish(key, in, 1)
            : Mono.<Outcome>just(new AlreadyBound(new Bound(State.PENDING, null, null, null, null, 0))));
      }
      return bus.publishInbound(in)
          .onErrorResume(e -> {
            if (e instanceof BacklogFullException || e instanceof EnvelopeTooLargeException) {
              // refused before anything was sent: the client may retry with the same key at once.
              // Any other failure may have published after all: the claim then expires on its own
              // (max wait + margin), or the reply completes it.
              return idempotency.release(key, in).onErrorResume(x -> Mono.just(false)).then(Mono.error(e));
            }
            return Mono.error(e);
          })
          .flatMap(sid -> idempotency.bind(key, in, sid)
              .onErrorResume(e -> {
                try (var ctx = LogContext.of(in)) {
                  log.warn("published {} (correlation {}) but could not bind its Idempotency-Key record: {}",
                      in.id(), in.correlationId(), e.toString());
                }
                return Mono.just(false);
              })
              .thenReturn(new Published(sid)));
    });
  }

  /** A retry: the key is bound to a message already; never publishes. */
  private Mono<HttpResult> replay(Caller caller, String key, Bound b, Duration wait) {
    return switch (b.state()) {
      case STORED_RESULT -> Mono.just(HttpResult.of(b.storedStatus(), b.reply()));
      case PENDING -> Mono.just(new HttpResult(409, new ApiError(409, "request_in_progress",
          "a request with this Idempotency-Key is being published; retry in a moment").body(), Map.of("Retry-After", "1")));
      case REPLIED -> Mono.just(wait.isZero() ? HttpResult.of(202, b.accepted()) : HttpResult.of(200, b.reply()));
      case PUBLISHED -> wait.isZero() ? Mono.just(HttpResult.of(202, b.accepted())) : waitFor(caller, key, b, wait);
    };
  }

  /** Waits for the reply to a message published earlier, as the request that published it would have. */
  private Mono<HttpResult> waitFor(Caller caller, String key, Bound b, Duration wait) {
    ReplyHub.Waiter waiter = hub.await(caller.tenant(), b.messageId());
    Mono<Optional<JsonNode>> stored = idempotency.read(key)
        .map(r -> r.filter(x -> x.state() == State.REPLIED && b.messageId().equals(x.messageId())).map(Bound::reply))
        .onErrorReturn(Optional.empty());
    Mono<Optional<JsonNode>> live = waiter.reply(wait).map(r -> r.map(e -> (JsonNode) Json.reply(e.reply(), e.streamId())));
    return stored // a reply that came before the wait was registered is in the record
        .flatMap(s -> s.isPresent() ? Mono.just(s) : live)
        .flatMap(s -> s.isPresent() ? Mono.just(s) : stored) // one stored by another node meanwhile
        .flatMap(s -> s.map(reply -> answered(key, b.messageId(), reply))
            .orElseGet(() -> Mono.just(HttpResult.of(504, timedOut(b.messageId(), b.correlationId(), b.streamId(), wait)))))
        .doFinally(s -> waiter.cancel());
  }

  /** 200 with the reply, stored in the key's record first (when there is a key) so any retry gets it. */
  private Mono<HttpResult> answered(String key, String messageId, JsonNode reply) {
    HttpResult r = HttpResult.of(200, reply);
    if (key == null) {
      return Mono.just(r);
    }
    return idempotency.complete(key, messageId, reply)
        .onErrorResume(e -> {
          log.warn("could not store the reply to {} in its Idempotency-Key record: {}", messageId, e.toString());
          return Mono.just(false);
        })
        .thenReturn(r);
  }

  static InboundEnvelope toEnvelope(MessageRequest m) {
    try {
      return m.toEnvelope();
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("invalid_message", e.getMessage());
    }
  }

  static ObjectNode accepted(InboundEnvelope in, String streamId) {
    return Json.object().put("id", in.id()).put("correlation_id", in.correlationId()).put("stream_id", streamId);
  }

  private static ObjectNode timedOut(String id, String correlationId, String streamId, Duration wait) {
    ObjectNode n = Json.object();
    n.putObject("error").put("code", "reply_timeout")
        .put("message", "no reply within " + wait.toSeconds() + " s; it will still be delivered over SSE, WebSocket or webhook");
    n.put("id", id).put("correlation_id", correlationId);
    if (streamId != null) {
      n.put("stream_id", streamId);
    }
    return n;
  }

  private Duration parseWait(String raw) {
    if (raw == null || raw.isBlank()) {
      return Duration.ZERO;
    }
    double s;
    try {
      s = Double.parseDouble(raw.trim());
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("invalid_wait", "wait must be a number of seconds, got '" + raw + "'");
    }
    if (!(s >= 0) || Double.isInfinite(s)) {
      throw ApiError.badRequest("invalid_wait", "wait must be >= 0 seconds");
    }
    Duration d = Duration.ofMillis((long) (s * 1000));
    return d.compareTo(maxWait) > 0 ? maxWait : d;
  }

  /** The body, at most {@code maxBodyBytes} (413 beyond, checked on Content-Length first and while reading). */
  Mono<byte[]> readBody(HttpServerRequest req) {
    String len = req.requestHeaders().get("Content-Length");
    if (len != null) {
      try {
        if (Long.parseLong(len.trim()) > maxBodyBytes) {
          return Mono.error(tooLarge());
        }
      } catch (NumberFormatException e) {
        return Mono.error(ApiError.badRequest("invalid_content_length", "Content-Length is not a number"));
      }
    }
    return req.receive().asByteArray()
        .collect(ByteArrayOutputStream::new, (out, chunk) -> {
          if (out.size() + chunk.length > maxBodyBytes) {
            throw tooLarge();
          }
          out.write(chunk, 0, chunk.length);
        })
        .map(ByteArrayOutputStream::toByteArray);
  }

  private ApiError tooLarge() {
    return new ApiError(413, "body_too_large", "the body is larger than " + maxBodyBytes + " bytes");
  }
}
