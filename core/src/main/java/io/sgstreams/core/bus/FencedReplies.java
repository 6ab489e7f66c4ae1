package io.sgstreams.core.bus;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.consume.Fence;
import io.sgstreams.core.redis.internal.RedisScript;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * A leased partition's final replies and their inbound acks, group-committed: each item is "XADD this
 * reply, XACK that entry", and every item queued while the previous script was in flight goes into
 * the next one, a single script that checks the lease once and then writes every reply and its ack
 * (all keys share the partition's tag, one slot). Per item it is the same promise as one script per
 * message (reply and ack together or neither, nothing once the lease is gone) at a fraction of the
 * round trips and script calls. Measured with {@code sg bench} at P = 12 (docs/performance.md).
 */
final class FencedReplies {
  /** Most items per script call. */
  static final int MAX_BATCH = 128;
  /** Most bytes of fields per script call (one script blocks the server while it runs). */
  static final int MAX_BATCH_BYTES = 1 << 20;

  private static final RedisScript SCRIPT = new RedisScript("fenced-replies-acks", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
      end
      local group = ARGV[2]
      local n = tonumber(ARGV[3])
      local pos = 4
      local ids = {}
      for i = 1, n do
        local key = KEYS[tonumber(ARGV[pos])]
        local ackKey = KEYS[tonumber(ARGV[pos + 1])]
        local entry = ARGV[pos + 2]
        local ntrim = tonumber(ARGV[pos + 3])
        local nfields = tonumber(ARGV[pos + 4])
        pos = pos + 5
        local args = {key}
        for j = 1, ntrim do args[#args + 1] = ARGV[pos]; pos = pos + 1 end
        args[#args + 1] = '*'
        for j = 1, nfields * 2 do args[#args + 1] = ARGV[pos]; pos = pos + 1 end
        -- one item's failure (a wrong key type, TRYAGAIN while its slot moves) is its own: written and
        -- acknowledged together or neither, and the others go on
        local id = redis.pcall('XADD', unpack(args))
        if type(id) == 'table' and id.err then
          ids[i] = {'ERR', id.err}
        else
          redis.call('XACK', ackKey, group, entry)
          ids[i] = id
        end
      end
      return ids
      """, ScriptOutputType.MULTI);

  private record Item(Retention.Tracked tracked, String stream, Map<String, byte[]> fields, String ackStream, String group,
      String id, MonoSink<String> sink) {}

  private final RedisEventBus bus;
  private final Fence fence;
  private final ConcurrentLinkedQueue<Item> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean busy = new AtomicBoolean();

  FencedReplies(RedisEventBus bus, Fence fence) {
    this.bus = bus;
    this.fence = fence;
  }

  /** Queues one reply + ack; completes with the reply's entry id once the script that carried it returned. */
  Mono<String> submit(Retention.Tracked tracked, String stream, Map<String, byte[]> fields, String ackStream, String group,
      String id) {
    return Mono.create(sink -> {
      queue.add(new Item(tracked, stream, fields, ackStream, group, id, sink));
      drain();
    });
  }

  private void drain() {
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    List<Item> batch = new ArrayList<>();
    Item it;
    String group = null;
    long bytes = 0;
    while (batch.size() < MAX_BATCH && (it = queue.peek()) != null) {
      if (group != null && !group.equals(it.group)) {
        break; // one group per script call (in practice there is only one)
      }
      long size = it.fields.values().stream().mapToLong(v -> v.length).sum();
      if (!batch.isEmpty() && bytes + size > MAX_BATCH_BYTES) {
        break;
      }
      bytes += size;
      group = it.group;
      batch.add(queue.poll());
    }
    if (batch.isEmpty()) {
      busy.set(false);
      if (!queue.isEmpty()) {
        drain();
      }
      return;
    }
    Mono<List<Object>> call;
    try {
      call = send(batch, group);
    } catch (RuntimeException e) {
      call = Mono.error(e);
    }
    call.subscribe(ids -> {
      next(); // the next batch goes out before this one's callers run
      for (int i = 0; i < batch.size(); i++) {
        Item b = batch.get(i);
        Object r = i < ids.size() ? ids.get(i) : null;
        if (r instanceof List<?> err) {
          String why = err.size() > 1 ? RedisScript.text(err.get(1)) : "unknown error";
          bus.metrics().publishFailed(b.stream);
          b.sink.error(new StreamException("publish failed: " + why, b.stream, null, null, null, null));
        } else if (r == null) {
          bus.metrics().publishFailed(b.stream);
          b.sink.error(new StreamException("publish failed: no reply for this item", b.stream, null, null, null, null));
        } else {
          b.tracked.published();
          b.sink.success(RedisScript.text(r));
        }
      }
    }, e -> {
      next();
      for (Item b : batch) {
        bus.metrics().publishFailed(b.stream);
        b.sink.error(new StreamException("publish failed: " + e.getMessage(), b.stream, null, null, null, e));
      }
    });
  }

  private void next() {
    busy.set(false);
    if (!queue.isEmpty()) {
      drain();
    }
  }

  private Mono<List<Object>> send(List<Item> batch, String group) {
    Map<String, Integer> keyIndex = new LinkedHashMap<>();
    keyIndex.put(fence.leaseKey(), 1);
    List<byte[]> argv = new ArrayList<>(8 + batch.size() * 12);
    argv.add(bytes(fence.token()));
    argv.add(bytes(group));
    argv.add(bytes(Integer.toString(batch.size())));
    for (Item b : batch) {
      int k = keyIndex.computeIfAbsent(b.stream, s -> keyIndex.size() + 1);
      int a = keyIndex.computeIfAbsent(b.ackStream, s -> keyIndex.size() + 1);
      List<String> trim = b.tracked.plan == null ? List.of() : b.tracked.plan.trimWords();
      argv.add(bytes(Integer.toString(k)));
      argv.add(bytes(Integer.toString(a)));
      argv.add(bytes(b.id));
      argv.add(bytes(Integer.toString(trim.size())));
      argv.add(bytes(Integer.toString(b.fields.size())));
      for (String w : trim) {
        argv.add(bytes(w));
      }
      for (Map.Entry<String, byte[]> f : b.fields.entrySet()) {
        argv.add(bytes(f.getKey()));
        argv.add(f.getValue());
      }
    }
    return SCRIPT.run(bus.connections(), keyIndex.keySet().toArray(String[]::new), argv.toArray(byte[][]::new));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
