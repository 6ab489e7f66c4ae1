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
 *
 * <p>A node claims units of a busy caller's window a few at a time instead of one increment per request
 * ({@link WindowAllotments}): never more than the limit across nodes, exact below 200 a minute, and above
 * that a node may leave up to 1 % of the limit (at most 63) of a window unused.
 */
public final class RateLimiter {
  /** A window's counter outlives the minute a little, so a late increment never starts a fresh one. */
  private static final Duration WINDOW_TTL = Duration.ofSeconds(61);
  private final int perMinute;
  private final int tenantPerMinute;
  private final Clock clock;
  private final WindowAllotments callers;
  private final WindowAllotments tenants;

  public RateLimiter(RedisEventBus bus, int perMinute, Clock clock) {
    this(bus, perMinute, 0, clock);
  }

  /**
   * @param perMinute per caller; 0 = off
   * @param tenantPerMinute per tenant, all its callers together; 0 = off
   */
  public RateLimiter(RedisEventBus bus, int perMinute, int tenantPerMinute, Clock clock) {
    this.perMinute = perMinute;
    this.tenantPerMinute = tenantPerMinute;
    this.clock = clock;
    this.callers = perMinute <= 0 ? null : new WindowAllotments(perMinute, clock::millis,
        (caller, window, n) -> bus.counters().add(bus.topology().rateLimitKey(caller, window), n, WINDOW_TTL));
    this.tenants = tenantPerMinute <= 0 ? null : new WindowAllotments(tenantPerMinute, clock::millis,
        (tenant, window, n) -> bus.counters().add(bus.topology().tenantRateLimitKey(tenant, window), n, WINDOW_TTL));
  }

  /** Completes when the caller may go on; errors with {@link RateLimited} when it or its tenant may not. */
  public Mono<Void> check(Caller caller) {
    return check(caller.id()).then(tenants == null ? Mono.empty() : tenants.take(caller.tenant(), window -> new RateLimited(
        "more than " + tenantPerMinute + " requests of tenant " + caller.tenant() + " this minute", retryAfter(clock.millis(), window))));
  }

  /** The per-caller limit only. */
  public Mono<Void> check(String caller) {
    if (callers == null) {
      return Mono.empty();
    }
    return callers.take(caller,
        window -> new RateLimited("more than " + perMinute + " requests this minute", retryAfter(clock.millis(), window)));
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
