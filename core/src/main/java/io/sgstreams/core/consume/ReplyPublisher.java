package io.sgstreams.core.consume;

import reactor.core.publisher.Mono;

/**
 * Where a {@link Router} publishes its handlers' replies. {@link io.sgstreams.core.bus.RedisEventBus}
 * is the real one; tests pass their own, so the Router runs without Redis.
 */
@FunctionalInterface
public interface ReplyPublisher {
  /**
   * Publishes one reply; completes with its stream entry id once written. Lazy: nothing happens
   * before subscription. Fails with {@link io.sgstreams.core.bus.BacklogFullException} when the
   * target stream refuses new work.
   */
  Mono<String> publish(Reply reply);

  /**
   * A publisher that can write a delivery's last reply and acknowledge the delivery in one command
   * ({@link Delivery#ackWith}); the Router uses it for the final reply of every handler result it
   * {@link #acksWith accepts}.
   */
  interface Acking extends ReplyPublisher {
    /** Whether {@code reply} (the last of a result for {@code d}) can be written together with {@code d}'s ack. */
    boolean acksWith(Reply reply, Delivery d);

    /** Writes {@code reply} and acknowledges {@code d} in one command; lazy. */
    Mono<Void> publishAndAck(Reply reply, Delivery d);
  }
}
