package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.DeadLetterReplies;
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
  private final DeadLetterReplies replies;

  DeliveryLimit(int maxDeliveries, DeadLetterReplies replies) {
    this.maxDeliveries = maxDeliveries;
    this.replies = replies;
  }

  @Override
  public Handler wrap(Handler next) {
    return d -> {
      if (d.deliveryCount() <= maxDeliveries) {
        return next.handle(d);
      }
      DeliveryLimitExceeded cause = new DeliveryLimitExceeded(d.id(), d.deliveryCount(), maxDeliveries);
      return DeadLetterOnFailure.tellThenDeadLetter(d, cause, replies).thenReturn(HandlerResult.none());
    };
  }
}
