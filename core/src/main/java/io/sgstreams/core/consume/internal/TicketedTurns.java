package io.sgstreams.core.consume.internal;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.ChannelTurns;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * {@link ChannelTurns} on Redis: one list per conversation ({@link Topology#channelTicketsPrefix} +
 * SHA-1 of the conversation), filled by {@link #READ} as the group delivers new entries, read and
 * popped by single-key-slot scripts. Every script touches the stream and queues of one slot only.
 */
public final class TicketedTurns implements ChannelTurns {
  /** A queue not touched for this long expires (a safety net: settled heads are popped as they go). */
  static final Duration QUEUE_TTL = Duration.ofDays(1);

  /**
   * {@code XREADGROUP … >} and, for each entry read, its id appended to its conversation's queue (the
   * envelope decoded with cmsgpack: {@code tenant_id}, {@code platform}, {@code channel_id}); an entry
   * that does not decode or has no conversation gets no ticket and runs unordered, as within a pod.
   * Without entries: the stream's last id, for the wake-up {@code XREAD BLOCK} (as the fenced read).
   */
  static final RedisScript READ = new RedisScript("ticketed-xreadgroup", """
      local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
      if not r then
        local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
        if #top > 0 then return {top[1][1]} end
        return {'0-0'}
      end
      local prefix = ARGV[4]
      for _, e in ipairs(r[1][2]) do
        local f = e[2]
        if type(f) == 'table' then
          for j = 1, #f - 1, 2 do
            if f[j] == 'data' then
              local ok, env = pcall(cmsgpack.unpack, f[j + 1])
              if ok and type(env) == 'table' and type(env.platform) == 'string' and type(env.channel_id) == 'string' then
                local t = env.tenant_id
                if type(t) ~= 'string' then t = '' end
                local k = prefix .. redis.sha1hex(t .. '\\0' .. env.platform .. '\\0' .. env.channel_id)
                redis.call('RPUSH', k, e[1])
                redis.call('PEXPIRE', k, ARGV[5])
              end
              break
            end
          end
        end
      end
      return r
      """, ScriptOutputType.MULTI);

  /** Pops settled heads (no longer pending in the group); 1 when ARGV[2] is then at the head, comes before it, or the queue is empty. */
  private static final RedisScript TURN = new RedisScript("channel-turn", """
      local function before(a, b)
        local am, as = string.match(a, '^(%d+)-(%d+)$')
        local bm, bs = string.match(b, '^(%d+)-(%d+)$')
        if not am or not bm then return false end
        am, bm = tonumber(am), tonumber(bm)
        if am ~= bm then return am < bm end
        return tonumber(as) < tonumber(bs)
      end
      for i = 1, 256 do
        local h = redis.call('LINDEX', KEYS[1], 0)
        if not h or h == ARGV[2] then return 1 end
        if before(ARGV[2], h) then return 1 end
        if #redis.call('XPENDING', KEYS[2], ARGV[1], h, h, 1) > 0 then return 0 end
        redis.call('LPOP', KEYS[1])
      end
      return 0
      """, ScriptOutputType.INTEGER);

  /**
   * After ARGV[2] ran: removed if still pending under ARGV[3] (a handler failure, a refused ack), kept
   * if another consumer owns it now (it runs in turn there); then settled heads are popped.
   */
  private static final RedisScript FINISHED = new RedisScript("channel-finished", """
      local p = redis.call('XPENDING', KEYS[2], ARGV[1], ARGV[2], ARGV[2], 1)
      if #p > 0 then
        if p[1][2] ~= ARGV[3] then return 0 end
        redis.call('LREM', KEYS[1], 1, ARGV[2])
      end
      for i = 1, 256 do
        local h = redis.call('LINDEX', KEYS[1], 0)
        if not h then return 1 end
        if #redis.call('XPENDING', KEYS[2], ARGV[1], h, h, 1) > 0 then return 1 end
        redis.call('LPOP', KEYS[1])
      end
      return 1
      """, ScriptOutputType.INTEGER);

  /** ARGV[2] back to one delivery fewer, if ARGV[3] still owns it (JUSTID: the counter is not bumped). */
  private static final RedisScript DEFERRED = new RedisScript("channel-deferred", """
      local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
      if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
      local n = tonumber(p[1][4]) - 1
      if n < 0 then n = 0 end
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'RETRYCOUNT', n, 'JUSTID')
      return 1
      """, ScriptOutputType.INTEGER);

  private final RedisStreams redis;
  private final java.util.function.IntConsumer onParked;

  public TicketedTurns(RedisStreams redis, java.util.function.IntConsumer onParked) {
    this.redis = redis;
    this.onParked = onParked;
  }

  @Override
  public void parked(int delta) {
    onParked.accept(delta);
  }

  /** The read script's ARGV after group, consumer and count: the queue prefix of {@code stream} and the TTL. */
  static byte[][] readArgs(String group, String consumer, int count, String stream) {
    return new byte[][] {RedisScript.arg(group), RedisScript.arg(consumer), RedisScript.arg(count),
        RedisScript.arg(Topology.channelTicketsPrefix(stream)), RedisScript.arg(QUEUE_TTL.toMillis())};
  }

  @Override
  public String conversation(Delivery d) {
    return queueKey(d);
  }

  /** The queue of {@code d}'s conversation, or null when it has none (undecodable, no platform or channel). */
  public static String queueKey(Delivery d) {
    if (d.decodeError().isPresent()) {
      return null;
    }
    Envelope e = d.envelope();
    if (e.platform() == null || e.channelId() == null) {
      return null;
    }
    return queueKey(d.stream(), e.tenantId(), e.platform(), e.channelId());
  }

  /** {@code prefix(stream)} + hex SHA-1 of {@code tenant ‖ 0 ‖ platform ‖ 0 ‖ channel} (tenant "" when absent), as the read script. */
  public static String queueKey(String stream, String tenantId, String platform, String channelId) {
    String conversation = (tenantId == null ? "" : tenantId) + '\0' + platform + '\0' + channelId;
    try {
      byte[] sha = MessageDigest.getInstance("SHA-1").digest(conversation.getBytes(StandardCharsets.UTF_8));
      return Topology.channelTicketsPrefix(stream) + HexFormat.of().formatHex(sha);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is part of every JDK", e);
    }
  }

  @Override
  public Mono<Boolean> isTurn(Delivery d) {
    String key = queueKey(d);
    if (key == null) {
      return Mono.just(true);
    }
    return TURN.<Long>run(redis, new String[] {key, d.stream()}, RedisScript.arg(d.group()), RedisScript.arg(d.id()))
        .map(n -> n == 1L);
  }

  @Override
  public Mono<Void> finished(Delivery d) {
    String key = queueKey(d);
    if (key == null) {
      return Mono.empty();
    }
    return FINISHED.<Long>run(redis, new String[] {key, d.stream()}, RedisScript.arg(d.group()), RedisScript.arg(d.id()),
        RedisScript.arg(d.consumer())).then();
  }

  @Override
  public Mono<Void> deferred(Delivery d) {
    return DEFERRED.<Long>run(redis, new String[] {d.stream()}, RedisScript.arg(d.group()), RedisScript.arg(d.id()),
        RedisScript.arg(d.consumer())).then();
  }

  /** For tests and tools: the ids queued for a conversation, head first. */
  public Mono<List<String>> queued(String key) {
    return Mono.fromCompletionStage(() -> redis.async().lrange(key, 0, -1))
        .map(l -> l.stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList());
  }
}
