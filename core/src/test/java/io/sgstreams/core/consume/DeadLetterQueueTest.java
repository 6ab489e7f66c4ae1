package io.sgstreams.core.consume;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.BacklogFullException;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.DeadLetterQueue.AlreadyReplayed;
import io.sgstreams.core.consume.DeadLetterQueue.DeadLetter;
import io.sgstreams.core.consume.DeadLetterQueue.NotFound;
import io.sgstreams.core.consume.DeadLetterQueue.NothingToReplay;
import io.sgstreams.core.consume.DeadLetterQueue.Order;
import io.sgstreams.core.consume.DeadLetterQueue.ReplayOutcome;
import io.sgstreams.core.consume.DeadLetterQueue.ReplayRecord;
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

/** {@link DeadLetterQueue} against a real Redis: listing, filtering, replay and its guard, deleting. */
class DeadLetterQueueTest {
  private static final Duration T = Duration.ofSeconds(10);
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

  private final SgConfig config = TestRedis.config("dlq-test");
  private final Topology t = config.topology();
  private final RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
  private final DeadLetterQueue dlq = bus.deadLetterQueue();
  private final List<RedisEventBus> others = new ArrayList<>();

  @AfterEach
  void close() {
    others.forEach(RedisEventBus::close);
    bus.close();
  }

  /** Dead-letters {@code in} as the engine would (the contract's fields), as if read from {@code stream}. */
  private String deadLetter(String stream, InboundEnvelope in, String error) {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put(DeadLetters.ORIGINAL_STREAM, utf8(stream));
    f.put(DeadLetters.ORIGINAL_ID, utf8("1-" + in.content().length()));
    f.put(DeadLetters.GROUP, utf8(t.workerGroup()));
    f.put(DeadLetters.CONSUMER, utf8("worker-x"));
    f.put(DeadLetters.DELIVERIES, utf8("3"));
    f.put(DeadLetters.ERROR, utf8(error));
    f.put(StreamFields.DATA, bus.codec().encode(in));
    f.put(StreamFields.TS, utf8(Long.toString(System.currentTimeMillis())));
    f.put(StreamFields.TRACE_ID, utf8(TRACE));
    return Streams.add(bus, t.dlqStream(), f);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static InboundEnvelope message(String content) {
    return InboundEnvelope.create("web", "c1", "u1", content);
  }

  @Test
  void listsNewestOrOldestFirstFilteredByStreamAndErrorPrefix() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 450; i++) { // more than two pages
      String error = i % 3 == 0 ? "java.lang.IllegalStateException: boom " + i : "java.util.concurrent.TimeoutException: " + i;
      ids.add(deadLetter(i % 2 == 0 ? t.inboundStream() : t.toolsStream(), message("m" + i), error));
    }
    List<DeadLetter> newest = dlq.list(Order.NEWEST_FIRST, null, null, 5).collectList().block(T);
    assertEquals(List.of(ids.get(449), ids.get(448), ids.get(447), ids.get(446), ids.get(445)),
        newest.stream().map(DeadLetter::id).toList());
    List<DeadLetter> oldest = dlq.list(Order.OLDEST_FIRST, null, null, 2).collectList().block(T);
    assertEquals(List.of(ids.get(0), ids.get(1)), oldest.stream().map(DeadLetter::id).toList());

    DeadLetter first = oldest.get(0);
    assertEquals(t.inboundStream(), first.originalStream());
    assertEquals(t.workerGroup(), first.group());
    assertEquals("worker-x", first.consumer());
    assertEquals(3, first.deliveries());
    assertEquals(TRACE, first.traceId());
    assertEquals(message("m0").content(), ((InboundEnvelope) bus.codec().decode(first.data())).content());

    // filters read past the first pages: every matching one, and only those
    List<String> expected = new ArrayList<>();
    for (int i = 449; i >= 0; i--) {
      if (i % 2 == 0 && i % 3 == 0) {
        expected.add(ids.get(i));
      }
    }
    List<String> filtered = dlq.list(Order.NEWEST_FIRST, t.inboundStream(), "java.lang.IllegalState", 1000)
        .map(DeadLetter::id).collectList().block(T);
    assertEquals(expected, filtered);
    assertEquals(expected.subList(0, 3), dlq.list(Order.NEWEST_FIRST, t.inboundStream(), "java.lang.IllegalState", 3)
        .map(DeadLetter::id).collectList().block(T));
    assertTrue(dlq.list(Order.NEWEST_FIRST, "nowhere", null, 10).collectList().block(T).isEmpty());
  }

  @Test
  void getsOneByIdAndNothingForAnUnknownOne() {
    String id = deadLetter(t.inboundStream(), message("hello"), "boom");
    DeadLetter d = dlq.get(id).block(T);
    assertEquals(id, d.id());
    assertEquals("boom", d.error());
    assertEquals(null, dlq.get("1-0").block(T));
    assertThrows(IllegalArgumentException.class, () -> dlq.get("not-an-id"));
    assertThrows(IllegalArgumentException.class, () -> dlq.get("12345"), "a bare time is a range, not one entry");
  }

  @Test
  void replayReAddsTheDataOnceWithReplayOfAndTheOriginalTraceId() {
    InboundEnvelope in = message("again");
    String id = deadLetter(t.inboundStream(), in, "boom");
    long before = System.currentTimeMillis();

    ReplayOutcome first = dlq.replay(id, "alice@host", false).block(T);
    Replayed r = assertInstanceOf(Replayed.class, first);
    assertEquals(t.inboundStream(), r.stream());
    List<StreamMessage<String, byte[]>> inbound = Streams.all(bus, t.inboundStream());
    assertEquals(1, inbound.size());
    StreamMessage<String, byte[]> m = inbound.get(0);
    assertEquals(r.newEntryId(), m.getId());
    assertArrayEquals(bus.codec().encode(in), m.getBody().get(StreamFields.DATA), "the data is re-added byte for byte");
    assertEquals(id, new String(m.getBody().get(StreamFields.REPLAY_OF), StandardCharsets.UTF_8));
    assertEquals(TRACE, new String(m.getBody().get(StreamFields.TRACE_ID), StandardCharsets.UTF_8));
    assertTrue(Long.parseLong(new String(m.getBody().get(StreamFields.TS), StandardCharsets.US_ASCII)) >= before, "a fresh ts");

    ReplayRecord rec = dlq.replayRecord(id).block(T);
    assertTrue(rec.done());
    assertEquals("alice@host", rec.by());
    assertEquals(r.newEntryId(), rec.newEntryId().orElseThrow());
    long ttl = bus.connections().commands().pttl(t.replayGuardKey(id)).block(T);
    assertTrue(ttl > Duration.ofDays(29).toMillis() && ttl <= DeadLetterQueue.GUARD_TTL.toMillis(), "kept ~30 days: " + ttl);

    // again, from another process: refused by the guard, nothing added
    RedisEventBus other = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
    others.add(other);
    AlreadyReplayed again = assertInstanceOf(AlreadyReplayed.class, other.deadLetterQueue().replay(id, "bob@elsewhere", false).block(T));
    assertEquals("alice@host", again.record().by());
    assertEquals(r.newEntryId(), again.record().newEntryId().orElseThrow());
    assertEquals(1, Streams.length(bus, t.inboundStream()));

    // forced: added again, the guard now names the forcing replayer
    Replayed forced = assertInstanceOf(Replayed.class, other.deadLetterQueue().replay(id, "bob@elsewhere", true).block(T));
    assertEquals(2, Streams.length(bus, t.inboundStream()));
    assertEquals("bob@elsewhere", dlq.replayRecord(id).block(T).by());
    assertEquals(forced.newEntryId(), dlq.replayRecord(id).block(T).newEntryId().orElseThrow());
  }

  @Test
  void unknownOrEmptyDeadLettersAreNotReplayed() {
    assertInstanceOf(NotFound.class, dlq.replay("1-0", "me", false).block(T));
    String trimmed = DeadLetters.writeTrimmed(bus, t.inboundStream(), "5-0", t.workerGroup(), "worker-x").block(T);
    NothingToReplay n = assertInstanceOf(NothingToReplay.class, dlq.replay(trimmed, "me", false).block(T));
    assertEquals(DeadLetters.TRIMMED_BEFORE_HANDLED, n.error());
    assertEquals(0, Streams.length(bus, t.inboundStream()));
    assertEquals(null, dlq.replayRecord(trimmed).block(T), "no guard taken");
  }

  @Test
  void aFullBacklogRefusesTheReplayAndGivesTheGuardBack() {
    String id = deadLetter(t.inboundStream(), message("later"), "boom");
    bus.ensureGroup(t.inboundStream(), t.workerGroup()).block(T);
    Map<String, byte[]> filler = StreamFields.of(bus.codec().encode(message("filler")), System.currentTimeMillis(), "");
    for (int i = 0; i < t.maxLen() + 10; i++) {
      Streams.add(bus, t.inboundStream(), filler); // raw: past the cap, nothing handled
    }
    long length = Streams.length(bus, t.inboundStream());

    Throwable e = assertThrows(RuntimeException.class, () -> dlq.replay(id, "me", false).block(T));
    assertInstanceOf(BacklogFullException.class, e);
    assertEquals(length, Streams.length(bus, t.inboundStream()), "nothing added");
    assertEquals(null, dlq.replayRecord(id).block(T), "the guard was given back");
    assertFalse(bus.connections().commands().exists(t.replayGuardKey(id)).block(T) > 0);
  }

  @Test
  void deletesByIdAndOlderThanATime() throws Exception {
    String a = deadLetter(t.inboundStream(), message("a"), "x");
    String b = deadLetter(t.inboundStream(), message("b"), "x");
    Thread.sleep(5); // c is dead-lettered in a later millisecond than a and b
    Instant cut = Instant.now();
    Thread.sleep(5);
    String c = deadLetter(t.inboundStream(), message("c"), "x");
    String d = deadLetter(t.inboundStream(), message("d"), "x");

    assertEquals(List.of(a), dlq.delete(List.of(a, "1-0")).block(T), "only what was there");
    assertEquals(List.of(b), dlq.idsBefore(cut, 100).block(T));
    assertEquals(List.of(b), dlq.deleteBefore(cut).block(T));
    assertEquals(List.of(c, d), dlq.list(Order.OLDEST_FIRST, null, null, 10).map(DeadLetter::id).collectList().block(T));
    assertEquals(List.of(), dlq.deleteBefore(cut).block(T));
    assertThrows(IllegalArgumentException.class, () -> dlq.delete(List.of("nope")));
  }
}
