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

  /** KEYS[1] counter; ARGV[1] amount; ARGV[2] window ms. The new value. */
  private static final RedisScript ADD = new RedisScript("window-add", """
      local n = redis.call('INCRBY', KEYS[1], ARGV[1])
      if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
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

  /** Adds {@code amount} (&gt; 0) to {@code key}, which expires {@code window} after its first addition; the new total. */
  public Mono<Long> add(String key, long amount, Duration window) {
    if (amount <= 0) {
      throw new IllegalArgumentException("amount must be positive, got " + amount);
    }
    return ADD.run(redis, new String[] {key}, RedisScript.arg(amount), RedisScript.arg(window.toMillis()));
  }
}
