package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.Middleware;
import io.sgstreams.core.consume.PermanentFailure;
import java.time.Duration;
import java.util.function.Predicate;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/** The stock middlewares. */
public final class Middlewares {
  private Middlewares() {}

  /** Fails an attempt that takes longer than {@code perAttempt} (a fresh timer per subscription). */
  public static Middleware timeout(Duration perAttempt) {
    return next -> d -> Mono.defer(() -> next.handle(d)).timeout(perAttempt);
  }

  /**
   * Retries in-process up to {@code maxRetries} times with exponential backoff from
   * {@code firstBackoff}, for errors {@code retryable} accepts (never a {@link PermanentFailure}).
   * The spec is built per subscription, so two deliveries never share retry state.
   */
  public static Middleware retry(int maxRetries, Duration firstBackoff, Predicate<Throwable> retryable) {
    return next -> d -> Mono.defer(() -> next.handle(d))
        .retryWhen(Retry.backoff(maxRetries, firstBackoff)
            .filter(e -> !(e instanceof PermanentFailure) && retryable.test(e))
            .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
  }
}
