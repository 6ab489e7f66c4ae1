package io.sgstreams.core.testing;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.Range;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.reactive.RedisClusterReactiveCommands;
import io.sgstreams.core.bus.RedisEventBus;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Looks through every key of the test Redis, whatever its type, for a text (e.g. a secret that must never be stored). */
public final class RedisScan {
  private RedisScan() {}

  /** The keys whose name or content (any element, field or value) contains {@code text}; empty when none does. */
  public static List<String> whereFound(RedisEventBus bus, String text) {
    RedisClusterReactiveCommands<String, byte[]> c = bus.connections().commands();
    List<String> found = new ArrayList<>();
    ScanCursor cursor = ScanCursor.INITIAL;
    do {
      KeyScanCursor<String> page = c.scan(cursor, ScanArgs.Builder.limit(500)).block();
      for (String key : page.getKeys()) {
        if (key.contains(text) || contentContains(c, key, text)) {
          found.add(key);
        }
      }
      cursor = page;
    } while (!cursor.isFinished());
    return found;
  }

  private static boolean contentContains(RedisClusterReactiveCommands<String, byte[]> c, String key, String text) {
    String type = c.type(key).block();
    List<String> parts = new ArrayList<>();
    switch (type == null ? "none" : type) {
      case "string" -> parts.add(s(c.get(key).block()));
      case "hash" -> c.hgetall(key).toIterable().forEach(kv -> {
        parts.add(kv.getKey());
        parts.add(s(kv.getValue()));
      });
      case "set" -> c.smembers(key).toIterable().forEach(v -> parts.add(s(v)));
      case "zset" -> c.zrange(key, 0, -1).toIterable().forEach(v -> parts.add(s(v)));
      case "list" -> c.lrange(key, 0, -1).toIterable().forEach(v -> parts.add(s(v)));
      case "stream" -> {
        // in pages: the shared test Redis may hold other tests' long streams, and one XRANGE of a
        // whole one can outlast the command timeout on a loaded machine
        String from = "-";
        while (true) {
          List<io.lettuce.core.StreamMessage<String, byte[]>> page = c.xrange(key, Range.create(from, "+"),
              io.lettuce.core.Limit.from(500)).collectList().block();
          for (io.lettuce.core.StreamMessage<String, byte[]> m : page) {
            m.getBody().forEach((f, v) -> {
              parts.add(f);
              parts.add(s(v));
            });
          }
          if (page.size() < 500) {
            break;
          }
          from = "(" + page.get(page.size() - 1).getId();
        }
      }
      default -> { }
    }
    return parts.stream().anyMatch(p -> p != null && p.contains(text));
  }

  private static String s(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.ISO_8859_1);
  }
}
