package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.DeadLetterReplies;
import io.sgstreams.core.consume.Middleware;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.util.Timeouts;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The stock middlewares. The Router composes {@link #defaults} around every handler unless told
 * otherwise; each is a small class in this package, and any can be reordered or replaced.
 */
public final class Middlewares {
  private Middlewares() {}

  /**
   * What the Router puts around every handler, outermost first: {@link #metrics},
   * {@link #rejectUndecodable}, {@link #deliveryLimit}, {@link #deadLetterOnFailure} (for a
   * {@link PermanentFailure} or a failure on the last delivery). User middlewares go inside.
   */
  public static List<Middleware> defaults(int maxDeliveries, StreamMetrics metrics) {
    return defaults(maxDeliveries, metrics, DeadLetterReplies.NONE);
  }

  /** As {@link #defaults(int, StreamMetrics)}, telling the client with {@code replies} when an entry is dead-lettered. */
  public static List<Middleware> defaults(int maxDeliveries, StreamMetrics metrics, DeadLetterReplies replies) {
    return List.of(metrics(metrics), rejectUndecodable(), deliveryLimit(maxDeliveries, replies),
        deadLetterOnFailure(maxDeliveries, e -> e instanceof PermanentFailure, replies));
  }

  /** Counts failures, times handling and the end-to-end trip. */
  public static Middleware metrics(StreamMetrics metrics) {
    return new Metrics(metrics);
  }

  /** Dead-letters an undecodable entry without calling the handler. */
  public static Middleware rejectUndecodable() {
    return new RejectUndecodable();
  }

  /** Dead-letters an entry delivered more than {@code maxDeliveries} times without calling the handler. */
  public static Middleware deliveryLimit(int maxDeliveries) {
    return new DeliveryLimit(maxDeliveries, DeadLetterReplies.NONE);
  }

  public static Middleware deliveryLimit(int maxDeliveries, DeadLetterReplies replies) {
    return new DeliveryLimit(maxDeliveries, replies);
  }

  /** Dead-letters a failure {@code permanent} accepts, or any failure on the last allowed delivery. */
  public static Middleware deadLetterOnFailure(int maxDeliveries, Predicate<Throwable> permanent) {
    return new DeadLetterOnFailure(maxDeliveries, permanent, DeadLetterReplies.NONE);
  }

  public static Middleware deadLetterOnFailure(int maxDeliveries, Predicate<Throwable> permanent, DeadLetterReplies replies) {
    return new DeadLetterOnFailure(maxDeliveries, permanent, replies);
  }

  /**
   * This hop's trace span: the handler sees the envelope with a child {@code traceparent} (same
   * trace, new span id), which the replies and tool requests it builds copy (see {@link TraceSpan}).
   */
  public static Middleware traceSpan() {
    return new TraceSpan();
  }

  /**
   * Fails an attempt that takes longer than {@code perAttempt} (a fresh timer per subscription)
   * with a {@link java.util.concurrent.TimeoutException}, on a wheel timer ({@link Timeouts}: Reactor's
   * {@code timeout} cost 6 % of the closed loop's throughput).
   */
  public static Middleware timeout(Duration perAttempt) {
    return next -> d -> Timeouts.timeout(Mono.defer(() -> next.handle(d)), perAttempt);
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
