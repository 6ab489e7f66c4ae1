package io.sgstreams.core.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.XAddArgs;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.DeadLetterQueue.AlreadyReplayed;
import io.sgstreams.core.consume.DeadLetterQueue.DeadLetter;
import io.sgstreams.core.consume.DeadLetterQueue.Order;
import io.sgstreams.core.consume.DeadLetterQueue.Replayed;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link DeadLetterQueue} over every DLQ partition (P = 4) and unchanged with P = 1. */
class DeadLetterQueuePartitionsTest {
  private static final Duration T = Duration.ofSeconds(10);
  private final List<RedisEventBus> buses = new ArrayList<>();

  @AfterEach
  void close() {
    buses.forEach(RedisEventBus::close);
  }

  private RedisEventBus bus(int partitions) {
    SgConfig config = TestRedis.config("dlq-p" + partitions).withPartitions(partitions);
    RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
    buses.add(bus);
    return bus;
  }

  private static Map<String, byte[]> fields(RedisEventBus bus, String source, String content) {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put(DeadLetters.ORIGINAL_STREAM, utf8(source));
    f.put(DeadLetters.ORIGINAL_ID, utf8("1-0"));
    f.put(DeadLetters.GROUP, utf8(bus.topology().workerGroup()));
    f.put(DeadLetters.CONSUMER, utf8("worker-x"));
    f.put(DeadLetters.DELIVERIES, utf8("3"));
    f.put(DeadLetters.ERROR, utf8("boom " + content));
    f.put(StreamFields.DATA, bus.codec().encode(InboundEnvelope.create("web", "c1", "u1", content)));
    f.put(StreamFields.TS, utf8(Long.toString(System.currentTimeMillis())));
    f.put(StreamFields.TRACE_ID, utf8("4bf92f3577b34da6a3ce929d0e0e4736"));
    return f;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void listsEveryPartitionMergedNewestOrOldestFirstWithReferences() throws InterruptedException {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    DeadLetterQueue dlq = bus.deadLetterQueue();
    List<String> refs = new ArrayList<>();
    for (int p : new int[] {2, 0, 3, 1, 2}) {
      String id = Streams.add(bus, t.dlqStream(p), fields(bus, t.inboundStream(p), "m" + refs.size()));
      refs.add(p + "/" + id);
      Thread.sleep(2); // distinct milliseconds: the merge order is the order of adding
    }
    List<DeadLetter> newest = dlq.list(Order.NEWEST_FIRST, null, null, 10).collectList().block(T);
    assertEquals(List.of(refs.get(4), refs.get(3), refs.get(2), refs.get(1), refs.get(0)),
        newest.stream().map(DeadLetter::ref).toList());
    List<DeadLetter> oldest = dlq.list(Order.OLDEST_FIRST, null, null, 3).collectList().block(T);
    assertEquals(refs.subList(0, 3), oldest.stream().map(DeadLetter::ref).toList());
    DeadLetter first = oldest.get(0);
    assertEquals(2, first.partition());
    assertEquals(t.dlqStream(2), first.dlqStream());
    assertEquals(t.inboundStream(2), first.originalStream());
    // filtered by original stream: one partition's
    assertEquals(List.of(refs.get(4), refs.get(0)),
        dlq.list(Order.NEWEST_FIRST, t.inboundStream(2), null, 10).map(DeadLetter::ref).collectList().block(T));
    assertEquals(5, dlq.list(Order.NEWEST_FIRST, t.inboundStream(), null, 10).collectList().block(T).size(),
        "the logical name matches every inbound partition");
    // by reference, and by bare id when only one partition has it
    assertEquals("boom m3", dlq.get(refs.get(3)).block(T).error());
    assertEquals(refs.get(3), dlq.get(DeadLetterQueue.entryIdOf(refs.get(3))).block(T).ref());
    assertNull(dlq.get("0/" + DeadLetterQueue.entryIdOf(refs.get(3))).block(T), "not in partition 0");
    assertThrows(IllegalArgumentException.class, () -> dlq.parseRef("9/1-0"), "no partition 9");
  }

  @Test
  void aBareIdInSeveralPartitionsIsAmbiguous() {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    DeadLetterQueue dlq = bus.deadLetterQueue();
    for (int p : new int[] {1, 3}) {
      bus.connections().commands().xadd(t.dlqStream(p), new XAddArgs().id("1000-7"), fields(bus, t.inboundStream(p), "x")).block(T);
    }
    DeadLetterQueue.AmbiguousIdException e = assertThrows(DeadLetterQueue.AmbiguousIdException.class,
        () -> dlq.get("1000-7").block(T));
    assertTrue(e.getMessage().contains("1/1000-7") && e.getMessage().contains("3/1000-7"), e.getMessage());
    assertEquals(3, dlq.get("3/1000-7").block(T).partition());
  }

  @Test
  void replaysToTheOriginalPartitionOnceWithAGuardPerPartition() {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    DeadLetterQueue dlq = bus.deadLetterQueue();
    String id = Streams.add(bus, t.dlqStream(3), fields(bus, t.inboundStream(3), "again"));
    String ref = "3/" + id;
    Replayed r = assertInstanceOf(Replayed.class, dlq.replay(ref, "ops@test", false).block(T));
    assertEquals(ref, r.dlqId());
    assertEquals(t.inboundStream(3), r.stream(), "re-added to the partition it came from");
    assertEquals(1, Streams.length(bus, t.inboundStream(3)));
    assertEquals(r.newEntryId(), Streams.all(bus, t.inboundStream(3)).get(0).getId());
    String guard = dlq.replayGuardKey(3, id);
    assertTrue(guard.startsWith(t.dlqStream(3)), "the guard is beside its DLQ partition (same slot): " + guard);
    assertNotNull(bus.records().get(guard).block(T));
    assertNull(bus.records().get(t.replayGuardKey(id)).block(T), "not the unpartitioned guard");
    // a second replay, by bare id: refused by the guard
    assertInstanceOf(AlreadyReplayed.class, dlq.replay(id, "ops@test", false).block(T));
    assertEquals(1, Streams.length(bus, t.inboundStream(3)));
    assertTrue(dlq.replayRecord(ref).block(T).done());
  }

  @Test
  void deletesAndPurgesAcrossPartitions() throws InterruptedException {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    DeadLetterQueue dlq = bus.deadLetterQueue();
    String a = "0/" + Streams.add(bus, t.dlqStream(0), fields(bus, t.inboundStream(0), "a"));
    String b = "2/" + Streams.add(bus, t.dlqStream(2), fields(bus, t.inboundStream(2), "b"));
    Thread.sleep(5);
    Instant cut = Instant.now();
    Thread.sleep(5);
    String c = "1/" + Streams.add(bus, t.dlqStream(1), fields(bus, t.inboundStream(1), "c"));
    assertEquals(List.of(a, b), dlq.idsBefore(cut, 10).block(T));
    assertEquals(List.of(a, b), dlq.deleteBefore(cut).block(T));
    assertEquals(0, Streams.length(bus, t.dlqStream(0)) + Streams.length(bus, t.dlqStream(2)));
    String bare = DeadLetterQueue.entryIdOf(c);
    assertEquals(List.of(bare), dlq.delete(List.of(bare)).block(T));
    assertEquals(0, Streams.length(bus, t.dlqStream(1)));
  }

  @Test
  void withOnePartitionReferencesAreTheIdsAndTheGuardIsTheOldOne() {
    RedisEventBus bus = bus(1);
    Topology t = bus.topology();
    DeadLetterQueue dlq = bus.deadLetterQueue();
    String id = Streams.add(bus, t.dlqStream(), fields(bus, t.inboundStream(), "one"));
    DeadLetter d = dlq.get(id).block(T);
    assertEquals(id, d.ref());
    assertEquals(t.dlqStream(), d.dlqStream());
    assertEquals(t.replayGuardKey(id), dlq.replayGuardKey(0, id));
    assertInstanceOf(Replayed.class, dlq.replay(id, "ops", false).block(T));
    assertNotNull(bus.records().get(t.replayGuardKey(id)).block(T));
    assertTrue(EntryIds.valid(dlq.list(Order.NEWEST_FIRST, null, null, 1).blockFirst(T).ref()));
  }
}
