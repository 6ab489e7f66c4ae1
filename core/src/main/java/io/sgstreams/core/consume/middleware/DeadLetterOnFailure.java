package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.DeadLetterReplies;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Middleware;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Dead-letters an entry whose handler failed permanently ({@code permanent} says which failures
 * are), or failed on its last allowed delivery. Other failures pass through: the Router leaves the
 * entry pending and it is claimed again once idle (the server counts the delivery).
 */
final class DeadLetterOnFailure implements Middleware {
  private static final Logger log = LoggerFactory.getLogger(DeadLetterOnFailure.class);

  private final int maxDeliveries;
  private final Predicate<Throwable> permanent;
  private final DeadLetterReplies replies;

  DeadLetterOnFailure(int maxDeliveries, Predicate<Throwable> permanent, DeadLetterReplies replies) {
    this.maxDeliveries = maxDeliveries;
    this.permanent = permanent;
    this.replies = replies;
  }

  @Override
  public Handler wrap(Handler next) {
    return d -> Mono.defer(() -> next.handle(d)).onErrorResume(
        e -> !d.lost() && (permanent.test(e) || d.deliveryCount() >= maxDeliveries),
        e -> tellThenDeadLetter(d, e, replies).thenReturn(HandlerResult.none()));
  }

  /** Emits the client's error reply (if there is one for this entry), then dead-letters the entry. */
  static Mono<Void> tellThenDeadLetter(Delivery d, Throwable cause, DeadLetterReplies replies) {
    Mono<Void> tell = Mono.defer(() -> {
      if (d.decodeError().isPresent()) {
        return Mono.empty();
      }
      return replies.replyFor(d, cause)
          .map(r -> d.emit(r)
              .doOnError(e -> log.warn("could not tell the client that {} on {} was dead-lettered: {}", d.id(), d.stream(), e.toString()))
              .onErrorResume(e -> Mono.empty())
              .then())
          .orElse(Mono.empty());
    });
    return tell.then(Mono.defer(() -> d.deadLetter(cause)));
  }
}
