package io.sgstreams.gateway.limit;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.gateway.http.ApiError;
import java.time.Clock;
import reactor.core.publisher.Mono;

/**
 * A fixed one-minute window per caller, shared by every gateway node through Redis: core's
 * window counter on {@code {inbound}:ratelimit:{caller}-{window}} (increment and expiry in one
 * single-key script). Over the limit → 429 with {@code Retry-After} = seconds to the next window.
 */
public final class RateLimiter {
  /** A window's counter outlives the minute a little, so a late increment never starts a fresh one. */
  private static final java.time.Duration WINDOW_TTL = java.time.Duration.ofSeconds(61);
  private final RedisEventBus bus;
  private final int perMinute;
  private final Clock clock;

  public RateLimiter(RedisEventBus bus, int perMinute, Clock clock) {
    this.bus = bus;
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /** Completes when the caller may go on; errors with {@link RateLimited} when it may not. */
  public Mono<Void> check(String caller) {
    if (perMinute <= 0) {
      return Mono.empty();
    }
    return Mono.defer(() -> {
      long now = clock.millis();
      long window = now / 60_000;
      long retryAfter = Math.max(1, (window + 1) * 60 - now / 1000);
      return bus.counters().increment(bus.topology().rateLimitKey(caller, window), WINDOW_TTL)
          .flatMap(n -> n > perMinute ? Mono.<Void>error(new RateLimited(perMinute, retryAfter)) : Mono.<Void>empty());
    });
  }

  /** 429 with the seconds to wait. */
  public static final class RateLimited extends ApiError {
    private final long retryAfterSeconds;

    RateLimited(int perMinute, long retryAfterSeconds) {
      super(429, "rate_limited", "more than " + perMinute + " requests this minute; retry in " + retryAfterSeconds + " s");
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }
}
