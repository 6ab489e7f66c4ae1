package io.sgstreams.core.redis.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandKeyword;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.ProtocolVersion;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.testing.TestRedis;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The hand-written stream read output against Lettuce's own, on the same replies from a real Redis
 * in both protocols: the wire contract's three fields, other field sets, a deleted entry's nil body
 * (a group's history), a batch larger than one, and a read that times out empty.
 */
class StreamEntriesOutputTest {
  record E(String id, Map<String, byte[]> body) {}

  @ParameterizedTest
  @EnumSource(value = ProtocolVersion.class, names = {"RESP2", "RESP3"})
  void sameEntriesAsLettuce(ProtocolVersion protocol) {
    RedisClient client = RedisClient.create();
    client.setOptions(ClientOptions.builder().protocolVersion(protocol).build());
    try (StatefulRedisConnection<String, byte[]> c = client.connect(StreamCodec.INSTANCE, RedisURI.create(TestRedis.url()))) {
      RedisCommands<String, byte[]> r = c.sync();
      String stream = TestRedis.namespace() + ":out-test:" + protocol + ":" + System.nanoTime();
      r.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), "g", io.lettuce.core.XGroupCreateArgs.Builder.mkstream());
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        Map<String, byte[]> f = new LinkedHashMap<>();
        if (i % 7 == 3) {
          f.put("other", bytes("x" + i));
          f.put("data", bytes("d" + i));
        } else {
          f.put(StreamFields.DATA, bytes("payload-" + i + "-\u00e9"));
          f.put(StreamFields.TS, bytes(Long.toString(1_700_000_000_000L + i)));
          f.put(StreamFields.TRACE_ID, i % 2 == 0 ? new byte[0] : bytes("abc"));
        }
        ids.add(r.xadd(stream, f));
      }

      // new entries through the group, in one batch of 300
      List<E> mine = c.async().dispatch(CommandType.XREADGROUP, new StreamEntriesOutput<E>(E::new),
          new CommandArgs<>(StreamCodec.INSTANCE).add(CommandKeyword.GROUP).add("g").add("c1")
              .add(CommandKeyword.COUNT).add(1000).add(CommandKeyword.BLOCK).add(100).add("STREAMS").addKey(stream).add(">"))
          .toCompletableFuture().join();
      List<StreamMessage<String, byte[]>> theirs = r.xrange(stream, io.lettuce.core.Range.create("-", "+"));
      assertSame(theirs, mine);
      assertEquals(ids.get(299), mine.get(299).id());
      assertTrue(mine.get(0).body() instanceof java.util.AbstractMap, "the three fields as the compact map");

      // a deleted entry in the group's history: nil body, read as empty
      r.xdel(stream, ids.get(5), ids.get(6));
      List<E> history = c.async().dispatch(CommandType.XREADGROUP, new StreamEntriesOutput<E>(E::new),
          new CommandArgs<>(StreamCodec.INSTANCE).add(CommandKeyword.GROUP).add("g").add("c1")
              .add(CommandKeyword.COUNT).add(10).add("STREAMS").addKey(stream).add("0"))
          .toCompletableFuture().join();
      List<StreamMessage<String, byte[]>> theirHistory = r.xreadgroup(Consumer.from("g", "c1"),
          XReadArgs.Builder.count(10), XReadArgs.StreamOffset.from(stream, "0"));
      assertEquals(10, history.size());
      assertEquals(ids.get(5), history.get(5).id());
      assertEquals(Map.of(), history.get(5).body());
      assertEquals(Map.of(), history.get(6).body());
      assertEquals(ids.get(7), history.get(7).id());
      for (int i = 0; i < 10; i++) {
        assertEquals(theirHistory.get(i).getId(), history.get(i).id());
        assertBody(theirHistory.get(i).getBody() == null ? Map.of() : theirHistory.get(i).getBody(), history.get(i).body());
      }

      // XREAD from an id, and a blocking read that times out: empty
      List<E> tail = c.async().dispatch(CommandType.XREAD, new StreamEntriesOutput<E>(E::new),
          new CommandArgs<>(StreamCodec.INSTANCE).add(CommandKeyword.COUNT).add(2).add("STREAMS").addKey(stream).add(ids.get(296)))
          .toCompletableFuture().join();
      assertEquals(List.of(ids.get(297), ids.get(298)), tail.stream().map(E::id).toList());
      List<E> none = c.async().dispatch(CommandType.XREAD, new StreamEntriesOutput<E>(E::new),
          new CommandArgs<>(StreamCodec.INSTANCE).add(CommandKeyword.COUNT).add(2).add(CommandKeyword.BLOCK).add(50)
              .add("STREAMS").addKey(stream).add("$"))
          .toCompletableFuture().join();
      assertEquals(List.of(), none);
      r.del(stream);
    } finally {
      client.shutdown();
    }
  }

  private static void assertSame(List<StreamMessage<String, byte[]>> theirs, List<E> mine) {
    assertEquals(theirs.size(), mine.size());
    for (int i = 0; i < theirs.size(); i++) {
      assertEquals(theirs.get(i).getId(), mine.get(i).id());
      assertBody(theirs.get(i).getBody(), mine.get(i).body());
    }
  }

  private static void assertBody(Map<String, byte[]> expected, Map<String, byte[]> actual) {
    assertEquals(List.copyOf(expected.keySet()), List.copyOf(actual.keySet()));
    for (Map.Entry<String, byte[]> e : expected.entrySet()) {
      assertArrayEquals(e.getValue(), actual.get(e.getKey()), e.getKey());
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
