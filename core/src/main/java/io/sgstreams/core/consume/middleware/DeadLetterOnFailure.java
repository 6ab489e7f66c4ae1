package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Middleware;
import java.util.function.Predicate;
import reactor.core.publisher.Mono;

/**
 * Dead-letters an entry whose handler failed permanently ({@code permanent} says which failures
 * are), or failed on its last allowed delivery. Other failures pass through: the Router leaves the
 * entry pending and it is claimed again once idle (the server counts the delivery).
 */
final class DeadLetterOnFailure implements Middleware {
  private final int maxDeliveries;
  private final Predicate<Throwable> permanent;

  DeadLetterOnFailure(int maxDeliveries, Predicate<Throwable> permanent) {
    this.maxDeliveries = maxDeliveries;
    this.permanent = permanent;
  }

  @Override
  public Handler wrap(Handler next) {
    return d -> Mono.defer(() -> next.handle(d)).onErrorResume(
        e -> !d.lost() && (permanent.test(e) || d.deliveryCount() >= maxDeliveries),
        e -> d.deadLetter(e).thenReturn(HandlerResult.none()));
  }
}
