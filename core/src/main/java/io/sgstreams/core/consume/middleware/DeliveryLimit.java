package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.DeliveryLimitExceeded;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Middleware;
import reactor.core.publisher.Mono;

/**
 * Dead-letters an entry delivered more than {@code maxDeliveries} times without running the
 * handler: it was never settled (it crashed or stalled every consumer that took it).
 */
final class DeliveryLimit implements Middleware {
  private final int maxDeliveries;

  DeliveryLimit(int maxDeliveries) {
    this.maxDeliveries = maxDeliveries;
  }

  @Override
  public Handler wrap(Handler next) {
    return d -> d.deliveryCount() > maxDeliveries
        ? d.deadLetter(new DeliveryLimitExceeded(d.id(), d.deliveryCount(), maxDeliveries)).thenReturn(HandlerResult.none())
        : next.handle(d);
  }
}
