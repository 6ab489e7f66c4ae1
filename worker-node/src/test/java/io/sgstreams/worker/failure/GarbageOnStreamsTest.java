package io.sgstreams.worker.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * 10,000 malformed entries of eight kinds interleaved with 1,000 valid ones, written with raw
 * XADD, consumed by a real echo worker: every valid one is answered once, every malformed one is
 * dead-lettered once with the envelope exception that names the reason and its bytes unchanged,
 * and the consumer keeps running with nothing pending.
 */
class GarbageOnStreamsTest {
  static final int VALID = 1000;
  static final int HUGE_BYTES = 10 * 1024 * 1024;
  static final Map<Garbage.Kind, Integer> MIX = new EnumMap<>(Map.of(
      Garbage.Kind.RANDOM_BYTES, 2000,
      Garbage.Kind.TRUNCATED, 2000,
      Garbage.Kind.WRONG_TYPE, 2000,
      Garbage.Kind.MISSING_FIELD, 1500,
      Garbage.Kind.HIGHER_VERSION, 1000,
      Garbage.Kind.NO_DATA_FIELD, 995,
      Garbage.Kind.WRONG_KIND, 500,
      Garbage.Kind.HUGE, 5));
  static final Duration WITHIN = Duration.ofSeconds(50);

  /** One entry to write: its fields, and for garbage its kind (null for a valid envelope). */
  record Entry(Map<String, byte[]> fields, Garbage.Kind kind, InboundEnvelope valid) {}

  @Test
  void everyValidEntryIsAnsweredAndEveryMalformedOneDeadLetteredWithItsReason() {
    // one consumer: no claiming needed, so a long claim threshold (see SlowHandlerTest)
    try (FailureRig rig = new FailureRig("echo", c -> c.withClaim(Duration.ofSeconds(30), Duration.ofSeconds(1)))) {
      Garbage garbage = new Garbage(42, rig.probe.codec());
      byte[] huge = Garbage.huge(HUGE_BYTES);
      List<Entry> entries = new ArrayList<>();
      for (int i = 0; i < VALID; i++) {
        InboundEnvelope in = InboundEnvelope.create("web", "chan-" + (i % 16), "u", "valid " + i);
        entries.add(new Entry(StreamFields.of(rig.probe.codec().encode(in), System.currentTimeMillis(), ""), null, in));
      }
      MIX.forEach((kind, n) -> {
        for (int i = 0; i < n; i++) {
          entries.add(new Entry(fields(kind, garbage, huge), kind, null));
        }
      });
      Collections.shuffle(entries, new Random(7));
      int malformed = entries.size() - VALID;
      assertEquals(10_000, malformed);

      // raw XADD, pipelined; the worker is already consuming while they arrive
      Map<String, Entry> byStreamId = new ConcurrentHashMap<>();
      long t0 = System.nanoTime();
      Flux.fromIterable(entries)
          .flatMap(e -> rig.probe.connections().commands().xadd(rig.inbound(), e.fields()).doOnNext(id -> byStreamId.put(id, e)), 32)
          .then().block(WITHIN);
      assertEquals(entries.size(), byStreamId.size());
      Set<String> validIds = entries.stream().filter(e -> e.kind() == null).map(e -> e.valid().id()).collect(Collectors.toSet());

      await().atMost(WITHIN).pollInterval(Duration.ofMillis(250)).until(() ->
          rig.length(rig.outbound()) >= VALID && rig.length(rig.dlq()) >= malformed && rig.pending() == 0);
      System.out.printf("garbage: %d entries written and settled in %d ms%n", entries.size(),
          (System.nanoTime() - t0) / 1_000_000);

      // every valid entry answered exactly once
      Map<String, Long> replies = rig.replies().stream()
          .collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
      assertEquals(validIds, replies.keySet(), "exactly the valid entries are answered");
      assertTrue(replies.values().stream().allMatch(n -> n == 1), "one reply per valid entry");

      // every malformed entry dead-lettered exactly once, with the reason and its bytes unchanged
      List<StreamMessage<String, byte[]>> dlq = rig.all(rig.dlq(), 500);
      assertEquals(malformed, dlq.size(), "one dead letter per malformed entry");
      Map<Garbage.Kind, Integer> seen = new EnumMap<>(Garbage.Kind.class);
      Set<String> deadIds = new java.util.HashSet<>();
      for (StreamMessage<String, byte[]> m : dlq) {
        Map<String, byte[]> f = m.getBody();
        String originalId = FailureRig.text(f, DeadLetters.ORIGINAL_ID);
        Entry e = byStreamId.get(originalId);
        assertNotNull(e, "dead letter for an entry that was written: " + originalId);
        assertNotNull(e.kind(), "a valid entry was dead-lettered: " + originalId + " " + FailureRig.text(f, DeadLetters.ERROR));
        assertTrue(deadIds.add(originalId), "dead-lettered twice: " + originalId);
        String error = FailureRig.text(f, DeadLetters.ERROR);
        assertTrue(error.startsWith(e.kind().error + ": ") && error.length() > 60,
            e.kind() + " should be dead-lettered with " + e.kind().error + " and a message, got: " + error);
        assertEquals(rig.inbound(), FailureRig.text(f, DeadLetters.ORIGINAL_STREAM));
        assertEquals("1", FailureRig.text(f, DeadLetters.DELIVERIES), "malformed entries are dead-lettered on their first delivery");
        byte[] originalData = e.fields().get(StreamFields.DATA);
        assertArrayEquals(originalData == null ? new byte[0] : originalData, f.get(StreamFields.DATA),
            "dead letter keeps the original bytes of " + originalId + " (" + e.kind() + ")");
        seen.merge(e.kind(), 1, Integer::sum);
      }
      assertEquals(MIX, seen, "every kind of garbage dead-lettered");

      assertTrue(rig.node.router().running(), "the consumer never stopped");
      // and it still answers: one more valid message after all the garbage
      InboundEnvelope last = InboundEnvelope.create("web", "after", "u", "still alive?");
      rig.probe.publishInbound(last).block(WITHIN);
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(100)).until(() -> rig.length(rig.outbound()) > VALID);
      assertTrue(rig.replies().stream().anyMatch(o -> o.inReplyTo().equals(last.id()) && o.content().equals("still alive?")));
      await().atMost(WITHIN).until(() -> rig.pending() == 0);
      // inFlight() also counts slots reserved for the blocked read that is waiting now, so it is
      // bounded by the concurrency rather than 0 on an idle consumer (see docs/failure-tests-inprocess.md)
      assertTrue(rig.node.router().receiver().inFlight() <= rig.config.consumer().concurrency());
    }
  }

  static Map<String, byte[]> fields(Garbage.Kind kind, Garbage g, byte[] huge) {
    long ts = System.currentTimeMillis();
    return switch (kind) {
      case RANDOM_BYTES -> StreamFields.of(g.randomBytes(), ts, "");
      case TRUNCATED -> StreamFields.of(g.truncated(), ts, "");
      case WRONG_TYPE -> StreamFields.of(g.wrongType(), ts, "");
      case MISSING_FIELD -> StreamFields.of(g.missingField(), ts, "");
      case HIGHER_VERSION -> StreamFields.of(g.higherVersion(), ts, "");
      case HUGE -> StreamFields.of(huge, ts, "");
      case WRONG_KIND -> StreamFields.of(g.wrongKind(), ts, "");
      case NO_DATA_FIELD -> {
        Map<String, byte[]> m = new HashMap<>();
        m.put(StreamFields.TS, Long.toString(ts).getBytes(StandardCharsets.US_ASCII));
        m.put("payload", g.randomBytes());
        yield m;
      }
    };
  }
}
