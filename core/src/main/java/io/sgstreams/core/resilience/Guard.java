package io.sgstreams.core.resilience;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedTimeLimiterMetrics;
import io.github.resilience4j.reactor.bulkhead.operator.BulkheadOperator;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import io.github.resilience4j.reactor.timelimiter.TimeLimiterOperator;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.github.resilience4j.timelimiter.TimeLimiterConfig;
import io.github.resilience4j.timelimiter.TimeLimiterRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.config.ResilienceConfig;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One outside call's protection (Resilience4j): a circuit breaker (opens after
 * {@code breaker_failures} failures — errors or timeouts — among the last {@code breaker_window}
 * calls, refuses calls for {@code breaker_open_ms}, then lets a few through), a bulkhead (at most
 * {@code bulkhead_max_concurrent} calls at once) and, for single answers, a time limiter. Applied
 * with {@code transformDeferred}, so each subscription is one call. A refused call fails at once
 * with {@link Refused} instead of waiting out timeouts. States and counts are exported through
 * {@code resilience4j-micrometer} ({@code resilience4j_circuitbreaker_state{name=…}}, …).
 */
public final class Guard {
  private final String name;
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final TimeLimiter limiter;

  private Guard(String name, CircuitBreaker breaker, Bulkhead bulkhead, TimeLimiter limiter) {
    this.name = name;
    this.breaker = breaker;
    this.bulkhead = bulkhead;
    this.limiter = limiter;
  }

  /**
   * A guard named {@code name} (e.g. {@code model}, {@code webhook}, {@code tools}).
   *
   * @param timeLimit the longest a single answer ({@link #mono}) may take; null for none
   * @param registry where the breaker, bulkhead and time limiter metrics go (null: none)
   */
  public static Guard of(String name, ResilienceConfig c, Duration timeLimit, MeterRegistry registry) {
    CircuitBreakerConfig cb = CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(c.breakerWindow())
        .minimumNumberOfCalls(c.breakerFailures())
        .failureRateThreshold(c.failureRatePercent())
        .waitDurationInOpenState(c.breakerOpen())
        .permittedNumberOfCallsInHalfOpenState(Math.min(3, c.breakerWindow()))
        .automaticTransitionFromOpenToHalfOpenEnabled(false)
        .ignoreExceptions(Refused.class)
        .build();
    CircuitBreakerRegistry cbr = CircuitBreakerRegistry.of(cb);
    BulkheadRegistry bhr = BulkheadRegistry.of(BulkheadConfig.custom()
        .maxConcurrentCalls(c.bulkheadMaxConcurrent()).maxWaitDuration(Duration.ZERO).build());
    TimeLimiterRegistry tlr = TimeLimiterRegistry.of(TimeLimiterConfig.custom()
        .timeoutDuration(timeLimit == null ? Duration.ofDays(1) : timeLimit).cancelRunningFuture(true).build());
    if (registry != null) {
      TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(cbr).bindTo(registry);
      TaggedBulkheadMetrics.ofBulkheadRegistry(bhr).bindTo(registry);
      TaggedTimeLimiterMetrics.ofTimeLimiterRegistry(tlr).bindTo(registry);
    }
    return new Guard(name, cbr.circuitBreaker(name), bhr.bulkhead(name), timeLimit == null ? null : tlr.timeLimiter(name));
  }

  public String name() {
    return name;
  }

  /** {@code CLOSED}, {@code OPEN}, {@code HALF_OPEN}, … */
  public String state() {
    return breaker.getState().name();
  }

  /** One call with a single answer: time-limited, through the bulkhead and the breaker. */
  public <T> Mono<T> mono(Mono<T> call) {
    Mono<T> m = call;
    if (limiter != null) {
      m = m.transformDeferred(TimeLimiterOperator.of(limiter));
    }
    return m.transformDeferred(BulkheadOperator.of(bulkhead))
        .transformDeferred(CircuitBreakerOperator.of(breaker))
        .onErrorMap(Guard::refused, e -> new Refused(name, e));
  }

  /** One call answered as a stream (the model's chunks): through the bulkhead and the breaker. */
  public <T> Flux<T> flux(Flux<T> call) {
    return call.transformDeferred(BulkheadOperator.of(bulkhead))
        .transformDeferred(CircuitBreakerOperator.of(breaker))
        .onErrorMap(Guard::refused, e -> new Refused(name, e));
  }

  private static boolean refused(Throwable e) {
    return e instanceof CallNotPermittedException || e instanceof BulkheadFullException;
  }

  /** A call refused without being made: the breaker is open, or the bulkhead is full. */
  public static final class Refused extends RuntimeException {
    private final String guard;

    Refused(String guard, Throwable cause) {
      super(guard + (cause instanceof BulkheadFullException ? " is at its concurrency limit" : " is unavailable (circuit open)"),
          cause);
      this.guard = guard;
    }

    public String guard() {
      return guard;
    }

    /** True when the breaker is open (false: the bulkhead was full). */
    public boolean breakerOpen() {
      return getCause() instanceof CallNotPermittedException;
    }
  }
}
