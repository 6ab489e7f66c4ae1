package io.sgstreams.gateway.limit;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.http.ApiError;
import java.time.Clock;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Fixed one-minute windows shared by every gateway node through Redis, each a core window counter
 * (increment and expiry in one single-key script): per caller (API key, or remote address with auth off)
 * on {@code {inbound}:ratelimit:{caller}-{window}}, and, when a tenant total is set, per tenant (all its
 * keys together) on {@code {inbound}:ratelimit:tenant:{tenant}-{window}}. A request counts against its
 * tenant only once its key's own limit let it through, so one key hammering past its limit does not use
 * up its siblings' share. Over either → 429 with {@code Retry-After} = seconds to the next window.
 */
public final class RateLimiter {
  /** A window's counter outlives the minute a little, so a late increment never starts a fresh one. */
  private static final Duration WINDOW_TTL = Duration.ofSeconds(61);
  private final RedisEventBus bus;
  private final int perMinute;
  private final int tenantPerMinute;
  private final Clock clock;

  public RateLimiter(RedisEventBus bus, int perMinute, Clock clock) {
    this(bus, perMinute, 0, clock);
  }

  /**
   * @param perMinute per caller; 0 = off
   * @param tenantPerMinute per tenant, all its callers together; 0 = off
   */
  public RateLimiter(RedisEventBus bus, int perMinute, int tenantPerMinute, Clock clock) {
    this.bus = bus;
    this.perMinute = perMinute;
    this.tenantPerMinute = tenantPerMinute;
    this.clock = clock;
  }

  /** Completes when the caller may go on; errors with {@link RateLimited} when it or its tenant may not. */
  public Mono<Void> check(Caller caller) {
    return check(caller.id()).then(tenantPerMinute <= 0 ? Mono.empty() : Mono.defer(() -> {
      long now = clock.millis();
      long window = now / 60_000;
      return bus.counters().increment(bus.topology().tenantRateLimitKey(caller.tenant(), window), WINDOW_TTL)
          .flatMap(n -> n > tenantPerMinute
              ? Mono.<Void>error(new RateLimited("more than " + tenantPerMinute + " requests of tenant " + caller.tenant()
                  + " this minute", retryAfter(now, window)))
              : Mono.<Void>empty());
    }));
  }

  /** The per-caller limit only. */
  public Mono<Void> check(String caller) {
    if (perMinute <= 0) {
      return Mono.empty();
    }
    return Mono.defer(() -> {
      long now = clock.millis();
      long window = now / 60_000;
      return bus.counters().increment(bus.topology().rateLimitKey(caller, window), WINDOW_TTL)
          .flatMap(n -> n > perMinute
              ? Mono.<Void>error(new RateLimited("more than " + perMinute + " requests this minute", retryAfter(now, window)))
              : Mono.<Void>empty());
    });
  }

  private static long retryAfter(long now, long window) {
    return Math.max(1, (window + 1) * 60 - now / 1000);
  }

  /** 429 with the seconds to wait. */
  public static final class RateLimited extends ApiError {
    private final long retryAfterSeconds;

    RateLimited(String what, long retryAfterSeconds) {
      super(429, "rate_limited", what + "; retry in " + retryAfterSeconds + " s");
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }
}
