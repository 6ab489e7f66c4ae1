package io.sgstreams.core.consume;

import java.util.Optional;

/**
 * What to tell the client when its entry is dead-lettered, so it is never left waiting: the worker
 * answers an inbound message with an {@code error} reply on its platform's outbound stream. Called
 * by the dead-letter middlewares just before the entry goes to the DLQ (for entries that can be
 * decoded); the reply is emitted through the delivery.
 */
@FunctionalInterface
public interface DeadLetterReplies {
  /** No reply (the default: tools, webhook delivery, reply readers have no client to tell). */
  DeadLetterReplies NONE = (d, cause) -> Optional.empty();

  Optional<Reply> replyFor(Delivery delivery, Throwable cause);
}
