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
}
