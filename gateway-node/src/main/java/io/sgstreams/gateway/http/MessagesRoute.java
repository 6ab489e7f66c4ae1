package io.sgstreams.gateway.http;

import io.sgstreams.gateway.auth.Caller;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.gateway.fanout.ReplyHub;
import io.sgstreams.gateway.limit.IdempotencyStore;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code POST /v1/messages}: validate, publish the inbound envelope, answer 202
 * {@code {id, correlation_id, stream_id}}; with {@code ?wait=S} (capped) hold until the reply
 * arrives (200 with the reply) or answer 504 {@code {error, id}}. {@code Idempotency-Key} makes
 * retries return the first result without publishing again.
 */
public final class MessagesRoute {
  static final String ROUTE = "/v1/messages";

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
    Mono<HttpResult> result = guard.admit(req).flatMap(caller -> {
      Duration wait = parseWait(RequestGuard.query(req, "wait"));
      String idemHeader = req.requestHeaders().get("Idempotency-Key");
      if (idemHeader == null) {
        return readBody(req).flatMap(body -> accept(caller, body, wait)).onErrorResume(e -> Mono.just(Responses.error(e, ROUTE)));
      }
      String key = idempotency.key(caller, idemHeader.trim());
      return idempotency.begin(key).flatMap(stored -> stored.isPresent()
          ? Mono.just(HttpResult.of(stored.get().status(), stored.get().body()))
          : readBody(req).flatMap(body -> accept(caller, body, wait))
              .onErrorResume(e -> Mono.just(Responses.error(e, ROUTE)))
              .flatMap(r -> (publishedNothing(r) ? idempotency.release(key) : idempotency.complete(key, r.status(), r.body()))
                  .thenReturn(r)));
    }).onErrorResume(e -> Mono.just(Responses.error(e, ROUTE)));
    return result.flatMapMany(r -> responses.send(res, ROUTE, r)).then();
  }

  /** Validates, publishes as the caller's tenant, and (with a wait) holds for the reply. */
  Mono<HttpResult> accept(Caller caller, byte[] body, Duration wait) {
    return Mono.defer(() -> {
      MessageRequest m = MessageRequest.parse(body, platforms, maxBodyBytes);
      InboundEnvelope in = toEnvelope(m).withTenant(caller.tenant());
      if (wait.isZero()) {
        return bus.publishInbound(in).map(sid -> HttpResult.of(202, accepted(in, sid)));
      }
      ReplyHub.Waiter waiter = hub.await(caller.tenant(), in.id());
      return bus.publishInbound(in)
          .doOnError(e -> waiter.cancel())
          .flatMap(sid -> waiter.reply(wait).map(reply -> reply
              .map(r -> HttpResult.of(200, Json.reply(r.reply(), r.streamId())))
              .orElseGet(() -> HttpResult.of(504, timedOut(in, sid, wait)))));
    });
  }

  /** Our own failures (500/503) published nothing: the client may retry with the same key. A 504 did publish. */
  private static boolean publishedNothing(HttpResult r) {
    return r.status() == 500 || r.status() == 503;
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

  private static ObjectNode timedOut(InboundEnvelope in, String streamId, Duration wait) {
    ObjectNode n = Json.object();
    n.putObject("error").put("code", "reply_timeout")
        .put("message", "no reply within " + wait.toSeconds() + " s; it will still be delivered over SSE, WebSocket or webhook");
    return n.put("id", in.id()).put("correlation_id", in.correlationId()).put("stream_id", streamId);
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
