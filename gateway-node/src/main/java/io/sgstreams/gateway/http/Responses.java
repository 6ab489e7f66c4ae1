package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sgstreams.core.bus.BacklogFullException;
import io.sgstreams.core.envelope.EnvelopeTooLargeException;
import io.sgstreams.gateway.limit.RateLimiter;
import java.util.Map;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerResponse;

/** Writing JSON results and turning failures into client-facing errors (never a 5xx for bad input). */
public final class Responses {
  private static final Logger log = LoggerFactory.getLogger(Responses.class);

  private final GatewayMetrics metrics;

  public Responses(GatewayMetrics metrics) {
    this.metrics = metrics;
  }

  public Publisher<Void> send(HttpServerResponse res, String route, HttpResult r) {
    metrics.request(route, r.status());
    res.status(HttpResponseStatus.valueOf(r.status())).header("Content-Type", "application/json");
    r.headers().forEach(res::header);
    return res.sendString(Mono.just(Json.write(r.body())));
  }

  /** The result for a failure: an {@link ApiError} as is, anything else a logged 503. */
  public static HttpResult error(Throwable e, String route) {
    return error(e, route, null);
  }

  /**
   * The result for a failure: an {@link ApiError} as is, anything else a 503 {@code unavailable}
   * with a generic message. The failure's own text (a Redis or driver message: key names, hosts,
   * internals) goes to the log only, with the request's correlation id (or a fresh reference when
   * there is none), which the body carries so the two can be matched.
   */
  public static HttpResult error(Throwable e, String route, String correlationId) {
    if (e instanceof RateLimiter.RateLimited rl) {
      return new HttpResult(429, rl.body(), Map.of("Retry-After", Long.toString(rl.retryAfterSeconds())));
    }
    if (e instanceof ApiError a) {
      return HttpResult.of(a.status(), a.body());
    }
    if (e instanceof BacklogFullException full) {
      // refused up front: accepting it would mean trimming work that is not done
      long retry = Math.max(1, (full.retryAfter().toMillis() + 999) / 1000);
      return new HttpResult(503, new ApiError(503, "backlog_full",
          "the workers are " + full.backlog() + " messages behind (cap " + full.cap() + "); nothing was accepted, retry later").body(),
          Map.of("Retry-After", Long.toString(retry)));
    }
    if (e instanceof io.sgstreams.core.bus.ReplicationTimeoutException) {
      // SG_PUBLISH_REPLICAS: written, but not confirmed by enough replicas (a failover could lose it)
      return new HttpResult(503, new ApiError(503, "not_replicated",
          "the message was written but not yet confirmed by enough Redis replicas; it may still be answered. "
              + "Retry with the same Idempotency-Key to get the answer exactly once").body(), Map.of("Retry-After", "1"));
    }
    if (e instanceof EnvelopeTooLargeException) {
      return HttpResult.of(413, new ApiError(413, "message_too_large", e.getMessage()).body());
    }
    String ref = correlationId != null ? correlationId : io.sgstreams.core.envelope.Ids.newId();
    log.warn("{} failed (correlation {}): {}", route, ref, e.toString(), e);
    ObjectNode body = new ApiError(503, "unavailable", "the request could not be handled now; retry later").body();
    body.put("correlation_id", ref);
    return HttpResult.of(503, body);
  }

  public Publisher<Void> sendError(HttpServerResponse res, String route, Throwable e) {
    return send(res, route, error(e, route));
  }
}
