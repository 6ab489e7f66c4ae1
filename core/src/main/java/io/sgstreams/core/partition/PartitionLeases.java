package io.sgstreams.core.partition;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.Fence;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.topology.StreamKeys;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * The leases by which one worker at a time reads a partition for a group, and the live-worker set
 * that sizes each worker's fair share. All single-slot: a lease key {@code sg:lease:<group>:{t}} and
 * its generation counter {@code sg:lease:<group>:{t}:gen} share the partition's tag; the live set
 * {@code sg:lease:<group>:live} is one key.
 *
 * <ul>
 *   <li>acquire: {@code SET NX PX ttl} of {@code owner:generation}, the generation a fresh
 *       {@code INCR}, so two holders of the same partition at different times never share a token;
 *   <li>renew: {@code PEXPIRE} only while the key still holds our token; release: {@code DEL} only then.
 * </ul>
 */
public final class PartitionLeases {
  private static final RedisScript ACQUIRE = new RedisScript("lease-acquire", """
      if redis.call('EXISTS', KEYS[1]) == 1 then return false end
      local gen = redis.call('INCR', KEYS[2])
      local token = ARGV[1] .. ':' .. gen
      redis.call('SET', KEYS[1], token, 'PX', ARGV[2])
      return token
      """, ScriptOutputType.VALUE);
  private static final RedisScript RENEW = new RedisScript("lease-renew", """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
      end
      return 0
      """, ScriptOutputType.INTEGER);
  private static final RedisScript RELEASE = new RedisScript("lease-release", """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('DEL', KEYS[1])
      end
      return 0
      """, ScriptOutputType.INTEGER);
  private static final RedisScript LIVE = new RedisScript("lease-live", """
      redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
      return redis.call('ZCARD', KEYS[1])
      """, ScriptOutputType.INTEGER);

  private final RedisEventBus bus;
  private final String group;
  private final String owner;
  private final Duration ttl;

  public PartitionLeases(RedisEventBus bus, String group, String owner, Duration ttl) {
    this.bus = bus;
    this.group = group;
    this.owner = StreamKeys.requireNoBraces("lease owner", owner);
    this.ttl = ttl;
  }

  public Duration ttl() {
    return ttl;
  }

  public String owner() {
    return owner;
  }

  /** {@code sg:lease:<group>:{t}}. */
  public String key(int partition) {
    return bus.topology().leaseKey(group, partition);
  }

  /** {@code sg:lease:<group>:live}: the live workers of the group, scored by their last tick. */
  public String liveKey() {
    return StreamKeys.child(PartitionedKeys.LEASE_PREFIX + StreamKeys.SEPARATOR + group, "live");
  }

  /** Takes partition {@code p} if nobody holds it: the fence of the new lease, or empty. */
  public Mono<Fence> acquire(int p) {
    String key = key(p);
    return ACQUIRE.<byte[]>run(bus.connections(), new String[] {key, key + StreamKeys.SEPARATOR + "gen"},
            RedisScript.arg(owner), RedisScript.arg(ttl.toMillis()))
        .map(b -> new Fence(key, new String(b, StandardCharsets.UTF_8)));
  }

  /** Extends a lease we hold; false when it is no longer ours (expired, taken). */
  public Mono<Boolean> renew(Fence f) {
    return RENEW.<Long>run(bus.connections(), new String[] {f.leaseKey()}, RedisScript.arg(f.token()),
        RedisScript.arg(ttl.toMillis())).map(n -> n == 1);
  }

  /** Gives a lease back at once (after draining), so the next owner need not wait for the TTL. */
  public Mono<Boolean> release(Fence f) {
    return RELEASE.<Long>run(bus.connections(), new String[] {f.leaseKey()}, RedisScript.arg(f.token())).map(n -> n == 1);
  }

  /** Marks this worker live now and returns how many workers are live (ticked within the TTL). */
  public Mono<Long> heartbeat() {
    long now = System.currentTimeMillis();
    return LIVE.run(bus.connections(), new String[] {liveKey()}, RedisScript.arg(now), RedisScript.arg(owner),
        RedisScript.arg(now - ttl.toMillis()), RedisScript.arg(ttl.toMillis() * 3));
  }

  /** Removes this worker from the live set (a clean stop), so the others' shares grow at once. */
  public Mono<Void> leave() {
    return Mono.fromCompletionStage(() -> bus.connections().async().zrem(liveKey(), RedisScript.arg(owner))).then();
  }

  /** Who holds partition {@code p} ({@code owner:generation}), empty when nobody. */
  public Mono<String> holder(int p) {
    return Mono.fromCompletionStage(() -> bus.connections().async().get(key(p)))
        .map(b -> new String(b, StandardCharsets.UTF_8));
  }

  /** ceil(P / live): the most partitions one worker takes. */
  public static int fairShare(int partitions, long live) {
    long n = Math.max(1, live);
    return (int) ((partitions + n - 1) / n);
  }

  static List<Object> unused() {
    return List.of();
  }
}
