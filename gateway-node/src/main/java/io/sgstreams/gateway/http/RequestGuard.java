package io.sgstreams.gateway.http;

import io.netty.handler.codec.http.QueryStringDecoder;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.gateway.auth.ApiKeyAuth;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.auth.StoredKeyCache;
import io.sgstreams.gateway.limit.RateLimiter;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;

/**
 * Authentication then the rate limits (per caller, and per tenant when set), for every API route (ops routes
 * stay open); and, for connections that outlive their request (SSE, WebSocket), the signal that their stored
 * key was revoked.
 */
public final class RequestGuard {
  private static final Logger log = LoggerFactory.getLogger(RequestGuard.class);
  /** How often a held connection (SSE, WebSocket) of a stored key checks, through the cache, that it is still valid. */
  static final Duration RECHECK = Duration.ofSeconds(1);

  private final ApiKeyAuth auth;
  private final RateLimiter limiter;

  public RequestGuard(ApiKeyAuth auth, RateLimiter limiter) {
    this.auth = auth;
    this.limiter = limiter;
  }

  /**
   * The guard of a gateway with settings {@code s}: auth as {@code s.authEnabled()} decides ({@code SG_AUTH},
   * {@code SG_API_KEYS}), stored keys ({@code sg keys}) accepted whenever auth is on, the per-key and
   * per-tenant limits. Says in the log which it is.
   */
  public static RequestGuard create(RedisEventBus bus, GatewayConfig s) {
    boolean on = s.authEnabled();
    ApiKeyAuth auth = new ApiKeyAuth(s.apiKeys(), on, on ? new StoredKeyCache(bus.apiKeys()) : null);
    if (on) {
      log.info("gateway: authentication is on ({}={}): {} key(s) of {}, and the keys made by 'sg keys create' (under {}; "
              + "a revoked one is refused within {} ms, its held SSE/WebSocket connections end within {} ms)",
          ConfigSchema.Gateway.AUTH.env(), s.auth().wire(), s.apiKeys().size(), ConfigSchema.Gateway.API_KEYS.env(),
          bus.topology().keysPrefix(), StoredKeyCache.TTL.toMillis(), StoredKeyCache.TTL.plus(RECHECK).toMillis());
    } else {
      log.warn("gateway: authentication is OFF ({}={}, {} empty): every caller is tenant default (allowed only because {} "
          + "is a loopback address)", ConfigSchema.Gateway.AUTH.env(), s.auth().wire(), ConfigSchema.Gateway.API_KEYS.env(),
          s.host());
    }
    return new RequestGuard(auth, new RateLimiter(bus, s.rateLimitPerMinute(), s.tenantRateLimitPerMinute(), Clock.systemUTC()));
  }

  /** The caller (tenant and identity); errors with 401/403/429 (503 when a stored key cannot be checked now). */
  public Mono<Caller> admit(HttpServerRequest req) {
    return auth.authenticate(req.requestHeaders(), query(req, "api_key"), remote(req))
        .flatMap(caller -> limiter.check(caller).thenReturn(caller));
  }

  /**
   * One more unit of the caller's rate limits (each WebSocket message counts), once its key is known to be
   * still valid: a connection whose stored key was revoked is refused from then on (403).
   */
  public Mono<Void> charge(Caller caller) {
    return auth.stillValid(caller)
        .flatMap(valid -> valid ? limiter.check(caller) : Mono.error(new ApiError(403, "forbidden", "the API key was revoked")));
  }

  /**
   * Completes once {@code caller}'s stored key is revoked (checked every {@link #RECHECK} through the cache):
   * a held SSE stream or WebSocket ends then. Never for keys of {@code SG_API_KEYS} or with auth off; a
   * failed check keeps the connection (it is tried again).
   */
  public Mono<Void> revoked(Caller caller) {
    if (caller.keyId() == null) {
      return Mono.never();
    }
    return Flux.interval(RECHECK, RECHECK)
        .onBackpressureDrop()
        .concatMap(t -> auth.stillValid(caller).onErrorReturn(true), 1)
        .filter(valid -> !valid)
        .next()
        .then();
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
