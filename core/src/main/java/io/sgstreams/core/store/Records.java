package io.sgstreams.core.store;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Small values with an expiry, under keys the topology builds (idempotency records shared by every
 * gateway node). Single-key commands only (a conditional replace or delete is one script over one
 * key), so records can live on any shard of a cluster.
 */
public final class Records {
  /**
   * KEYS[1] record; ARGV[1] new value; ARGV[2] ttl ms; ARGV[3] '1' if an absent record may be
   * set; ARGV[4..] prefixes, one of which the current value must start with. 1 if set, else 0.
   */
  private static final RedisScript REPLACE_IF = new RedisScript("record-replace-if", """
      local v = redis.call('GET', KEYS[1])
      local ok = false
      if not v then
        ok = ARGV[3] == '1'
      else
        for i = 4, #ARGV do
          if string.sub(v, 1, #ARGV[i]) == ARGV[i] then ok = true break end
        end
      end
      if ok then
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 1
      end
      return 0
      """, ScriptOutputType.INTEGER);

  /** KEYS[1] record; ARGV[1] prefix its value must start with. 1 if deleted, else 0. */
  private static final RedisScript DELETE_IF = new RedisScript("record-delete-if", """
      local v = redis.call('GET', KEYS[1])
      if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
        redis.call('DEL', KEYS[1])
        return 1
      end
      return 0
      """, ScriptOutputType.INTEGER);

  /**
   * KEYS[1] record; ARGV[1] new prefix; ARGV[2] appended; ARGV[3] ttl ms; ARGV[4..] prefixes, one of
   * which the current value must start with (that one is replaced). 1 if rewritten, else 0.
   */
  private static final RedisScript REWRITE_IF = new RedisScript("record-rewrite-if", """
      local v = redis.call('GET', KEYS[1])
      if not v then return 0 end
      for i = 4, #ARGV do
        local p = ARGV[i]
        if string.sub(v, 1, #p) == p then
          redis.call('SET', KEYS[1], ARGV[1] .. string.sub(v, #p + 1) .. ARGV[2], 'PX', ARGV[3])
          return 1
        end
      end
      return 0
      """, ScriptOutputType.INTEGER);

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

  /**
   * Stores {@code value} with a fresh expiry only if the current value starts with one of
   * {@code prefixes}, or, when {@code orAbsent}, there is none: a compare-and-set on one key
   * (e.g. a record moves from "pending" to "published" only if it is still this request's).
   * True if it was stored.
   */
  public Mono<Boolean> replaceIf(String key, byte[] value, Duration ttl, boolean orAbsent, List<byte[]> prefixes) {
    List<byte[]> args = new ArrayList<>();
    args.add(value);
    args.add(RedisScript.arg(ttl.toMillis()));
    args.add(RedisScript.arg(orAbsent ? "1" : "0"));
    args.addAll(prefixes);
    return REPLACE_IF.<Long>run(redis, new String[] {key}, args.toArray(byte[][]::new)).map(n -> n == 1L);
  }

  /**
   * If the current value starts with one of {@code prefixes}, replaces that prefix with
   * {@code newPrefix}, adds {@code appended} at the end and gives the record a fresh expiry: a
   * record changes state and gains data while keeping what it had. True if it was rewritten.
   */
  public Mono<Boolean> rewriteIf(String key, List<byte[]> prefixes, byte[] newPrefix, byte[] appended, Duration ttl) {
    List<byte[]> args = new ArrayList<>();
    args.add(newPrefix);
    args.add(appended);
    args.add(RedisScript.arg(ttl.toMillis()));
    args.addAll(prefixes);
    return REWRITE_IF.<Long>run(redis, new String[] {key}, args.toArray(byte[][]::new)).map(n -> n == 1L);
  }

  /** Deletes {@code key} only if its value starts with {@code prefix}; true if it was deleted. */
  public Mono<Boolean> deleteIf(String key, byte[] prefix) {
    return DELETE_IF.<Long>run(redis, new String[] {key}, prefix).map(n -> n == 1L);
  }

  public Mono<Void> delete(String key) {
    return redis.commands().del(key).then();
  }
}
