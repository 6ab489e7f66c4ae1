package io.sgstreams.gateway.http;

import io.sgstreams.gateway.auth.Caller;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.sgstreams.gateway.auth.ApiKeyAuth;
import io.sgstreams.gateway.limit.RateLimiter;
import java.net.InetSocketAddress;
import java.util.List;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

/** Authentication then the per-caller rate limit, for every API route (ops routes stay open). */
public final class RequestGuard {
  private final ApiKeyAuth auth;
  private final RateLimiter limiter;

  public RequestGuard(ApiKeyAuth auth, RateLimiter limiter) {
    this.auth = auth;
    this.limiter = limiter;
  }

  /** The caller (tenant and identity); errors with 401/403/429. */
  public Mono<Caller> admit(HttpServerRequest req) {
    return Mono.fromCallable(() -> auth.authenticate(req.requestHeaders(), query(req, "api_key"), remote(req)))
        .flatMap(caller -> limiter.check(caller.id()).thenReturn(caller));
  }

  /** One more unit of the caller's rate limit (each WebSocket message counts). */
  public Mono<Void> charge(Caller caller) {
    return limiter.check(caller.id());
  }

  public static String query(HttpServerRequest req, String name) {
    List<String> v = new QueryStringDecoder(req.uri()).parameters().get(name);
    return v == null || v.isEmpty() ? null : v.get(0);
  }

  private static String remote(HttpServerRequest req) {
    InetSocketAddress a = req.remoteAddress();
    return a == null ? "unknown" : a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
  }
}
