package io.sgstreams.core.store;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Counters that live for a window (rate limits shared by every gateway node): one key per
 * (caller, window), built by the topology. Increment and expiry are one script, so a counter
 * never outlives its window even if the process dies between the two.
 */
public final class Counters {
  /** KEYS[1] counter; ARGV[1] window ms. The new value. */
  private static final RedisScript INCREMENT = new RedisScript("window-increment", """
      local n = redis.call('INCR', KEYS[1])
      if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
      return n
      """, ScriptOutputType.INTEGER);

  private final RedisStreams redis;

  public Counters(RedisStreams redis) {
    this.redis = redis;
  }

  /** Adds one to {@code key}, which expires {@code window} after its first increment; the new count. */
  public Mono<Long> increment(String key, Duration window) {
    return INCREMENT.run(redis, new String[] {key}, RedisScript.arg(window.toMillis()));
  }
}
