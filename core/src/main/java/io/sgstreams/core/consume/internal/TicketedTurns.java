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
   * {@code XREADGROUP … >} and, for each entry read, its id appended to its conversation's queue. The
   * conversation ({@code tenant_id}, {@code platform}, {@code channel_id}) is read from the envelope by a
   * small MessagePack scanner that skips every other value whatever its type (cmsgpack gives up on ext
   * values such as timestamps, which the Java reader accepts in keys it does not know); an entry that
   * is not a map with string {@code platform} and {@code channel_id} gets no ticket and runs unordered,
   * as on the Java side. Without entries: the stream's last id, for the wake-up {@code XREAD BLOCK}
   * (as the fenced read).
   */
  static final RedisScript READ = new RedisScript("ticketed-xreadgroup", """
      local function be(s, i, n)
        local v = 0
        for k = 0, n - 1 do v = v * 256 + string.byte(s, i + k) end
        return v
      end
      local function skip(s, i)
        local pending = 1
        while pending > 0 do
          local b = string.byte(s, i)
          pending = pending - 1
          if b <= 0x7f or b >= 0xe0 then i = i + 1
          elseif b <= 0x8f then pending = pending + 2 * (b - 0x80); i = i + 1
          elseif b <= 0x9f then pending = pending + (b - 0x90); i = i + 1
          elseif b <= 0xbf then i = i + 1 + (b - 0xa0)
          elseif b == 0xc0 or b == 0xc2 or b == 0xc3 then i = i + 1
          elseif b == 0xc4 or b == 0xd9 then i = i + 2 + string.byte(s, i + 1)
          elseif b == 0xc5 or b == 0xda then i = i + 3 + be(s, i + 1, 2)
          elseif b == 0xc6 or b == 0xdb then i = i + 5 + be(s, i + 1, 4)
          elseif b == 0xc7 then i = i + 3 + string.byte(s, i + 1)
          elseif b == 0xc8 then i = i + 4 + be(s, i + 1, 2)
          elseif b == 0xc9 then i = i + 6 + be(s, i + 1, 4)
          elseif b == 0xca then i = i + 5
          elseif b == 0xcb then i = i + 9
          elseif b == 0xcc or b == 0xd0 then i = i + 2
          elseif b == 0xcd or b == 0xd1 then i = i + 3
          elseif b == 0xce or b == 0xd2 then i = i + 5
          elseif b == 0xcf or b == 0xd3 then i = i + 9
          elseif b == 0xd4 then i = i + 3
          elseif b == 0xd5 then i = i + 4
          elseif b == 0xd6 then i = i + 6
          elseif b == 0xd7 then i = i + 10
          elseif b == 0xd8 then i = i + 18
          elseif b == 0xdc then pending = pending + be(s, i + 1, 2); i = i + 3
          elseif b == 0xdd then pending = pending + be(s, i + 1, 4); i = i + 5
          elseif b == 0xde then pending = pending + 2 * be(s, i + 1, 2); i = i + 3
          elseif b == 0xdf then pending = pending + 2 * be(s, i + 1, 4); i = i + 5
          else error('not msgpack') end
        end
        return i
      end
      local function str(s, i)
        local b = string.byte(s, i)
        local n, h
        if b >= 0xa0 and b <= 0xbf then n, h = b - 0xa0, 1
        elseif b == 0xd9 then n, h = string.byte(s, i + 1), 2
        elseif b == 0xda then n, h = be(s, i + 1, 2), 3
        elseif b == 0xdb then n, h = be(s, i + 1, 4), 5
        else return nil, i end
        if i + h + n - 1 > #s then error('truncated') end
        return string.sub(s, i + h, i + h + n - 1), i + h + n
      end
      local function conversation(s)
        local b = string.byte(s, 1)
        local n, i
        if b >= 0x80 and b <= 0x8f then n, i = b - 0x80, 2
        elseif b == 0xde then n, i = be(s, 2, 2), 4
        elseif b == 0xdf then n, i = be(s, 2, 4), 6
        else return nil end
        local tenant, platform, channel = '', nil, nil
        for k = 1, n do
          local key, j = str(s, i)
          if not key then return nil end
          local v, after = str(s, j)
          if key == 'tenant_id' then tenant = v or ''
          elseif key == 'platform' then platform = v
          elseif key == 'channel_id' then channel = v end
          if v then i = after else i = skip(s, j) end
        end
        if platform and channel then return tenant .. '\\0' .. platform .. '\\0' .. channel end
        return nil
      end
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
              local ok, c = pcall(conversation, f[j + 1])
              if ok and c then
                local k = prefix .. redis.sha1hex(c)
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

  /**
   * 2 when ARGV[2] is no longer pending under ARGV[3] (acknowledged elsewhere, or another consumer took
   * it over: it must not run here); else pops settled heads (no longer pending in the group) and answers
   * 1 when ARGV[2] is then at the head, comes before it, or the queue is empty, 0 while an earlier entry waits.
   */
  private static final RedisScript TURN = new RedisScript("channel-turn", """
      local function before(a, b)
        local am, as = string.match(a, '^(%d+)-(%d+)$')
        local bm, bs = string.match(b, '^(%d+)-(%d+)$')
        if not am or not bm then return false end
        am, bm = tonumber(am), tonumber(bm)
        if am ~= bm then return am < bm end
        return tonumber(as) < tonumber(bs)
      end
      local mine = redis.call('XPENDING', KEYS[2], ARGV[1], ARGV[2], ARGV[2], 1)
      if #mine == 0 or mine[1][2] ~= ARGV[3] then return 2 end
      redis.call('PEXPIRE', KEYS[1], ARGV[4])
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
   * After an entry ran: pops settled heads. The ticket of an entry still pending (its handler failed,
   * or Redis refused the ack) stays at the head: its conversation waits for the retry, claimed after
   * claim_min_idle, or for its dead letter.
   */
  private static final RedisScript FINISHED = new RedisScript("channel-finished", """
      for i = 1, 256 do
        local h = redis.call('LINDEX', KEYS[1], 0)
        if not h then return 1 end
        if #redis.call('XPENDING', KEYS[2], ARGV[1], h, h, 1) > 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        redis.call('LPOP', KEYS[1])
      end
      return 1
      """, ScriptOutputType.INTEGER);

  /** ARGV[2] back to one delivery fewer and its idle time kept, if ARGV[3] still owns it (JUSTID: the counter is not bumped). */
  private static final RedisScript DEFERRED = new RedisScript("channel-deferred", """
      local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
      if #p == 0 or p[1][2] ~= ARGV[3] then return 0 end
      local n = tonumber(p[1][4]) - 1
      if n < 0 then n = 0 end
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, ARGV[2], 'IDLE', p[1][3], 'RETRYCOUNT', n, 'JUSTID')
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
  public Mono<Turn> turn(String key, Delivery d) {
    return TURN.<Long>run(redis, new String[] {key, d.stream()}, RedisScript.arg(d.group()), RedisScript.arg(d.id()),
            RedisScript.arg(d.consumer()), RedisScript.arg(QUEUE_TTL.toMillis()))
        .map(n -> n == 1L ? Turn.YOURS : n == 2L ? Turn.GONE : Turn.WAIT);
  }

  @Override
  public Mono<Void> finished(String key, Delivery d) {
    return FINISHED.<Long>run(redis, new String[] {key, d.stream()}, RedisScript.arg(d.group()),
        RedisScript.arg(QUEUE_TTL.toMillis())).then();
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
