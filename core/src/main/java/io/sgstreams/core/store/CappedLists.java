package io.sgstreams.core.store;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Small capped lists with an expiry (a conversation's recent turns), under keys the caller builds
 * with core's key builder. Appending, capping and the expiry are one single-key script.
 */
public final class CappedLists {
  /**
   * KEYS[1] list; ARGV[1] ttl ms, ARGV[2] most items kept, ARGV[3] tag ('' = none), ARGV[4..] items.
   * With a tag, nothing is appended when the last item already contains it (a rerun of the same
   * work). The list's new length, or -1 when skipped.
   */
  private static final RedisScript APPEND = new RedisScript("capped-list-append", """
      if ARGV[3] ~= '' then
        local last = redis.call('LINDEX', KEYS[1], -1)
        if last and string.find(last, ARGV[3], 1, true) then
          return -1
        end
      end
      for i = 4, #ARGV do
        redis.call('RPUSH', KEYS[1], ARGV[i])
      end
      redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      return redis.call('LLEN', KEYS[1])
      """, ScriptOutputType.INTEGER);

  private final RedisStreams redis;

  public CappedLists(RedisStreams redis) {
    this.redis = redis;
  }

  /**
   * Appends {@code items} (in order), keeps the last {@code maxItems}, and (re)sets the expiry;
   * skipped when {@code tag} is non-empty and the last item already contains it.
   *
   * @return the new length, or -1 when skipped
   */
  public Mono<Long> append(String key, List<byte[]> items, int maxItems, Duration ttl, String tag) {
    byte[][] args = new byte[items.size() + 3][];
    args[0] = RedisScript.arg(ttl.toMillis());
    args[1] = RedisScript.arg(Math.max(1, maxItems));
    args[2] = RedisScript.arg(tag == null ? "" : tag);
    for (int i = 0; i < items.size(); i++) {
      args[i + 3] = items.get(i);
    }
    return APPEND.run(redis, new String[] {key}, args);
  }

  /** The last {@code n} items, oldest first (empty when the list is gone). */
  public Mono<List<byte[]>> last(String key, int n) {
    if (n <= 0) {
      return Mono.just(List.of());
    }
    return redis.commands().lrange(key, -n, -1).collectList();
  }
}
