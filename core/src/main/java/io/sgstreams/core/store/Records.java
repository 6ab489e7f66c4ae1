package io.sgstreams.core.store;

import io.lettuce.core.SetArgs;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Small values with an expiry, under keys the topology builds (idempotency records shared by every
 * gateway node). Single-key commands only.
 */
public final class Records {
  private final RedisStreams redis;

  public Records(RedisStreams redis) {
    this.redis = redis;
  }

  /** Stores {@code value} only if {@code key} holds nothing ({@code SET NX PX}); true if it was stored. */
  public Mono<Boolean> claim(String key, byte[] value, Duration ttl) {
    return redis.commands().set(key, value, SetArgs.Builder.nx().px(ttl.toMillis()))
        .map("OK"::equals)
        .defaultIfEmpty(false);
  }

  /** The value, or empty when there is none (never set, or expired). */
  public Mono<byte[]> get(String key) {
    return redis.commands().get(key);
  }

  /** Stores {@code value}, replacing any, with a fresh expiry. */
  public Mono<Void> put(String key, byte[] value, Duration ttl) {
    return redis.commands().set(key, value, SetArgs.Builder.px(ttl.toMillis())).then();
  }

  public Mono<Void> delete(String key) {
    return redis.commands().del(key).then();
  }
}
