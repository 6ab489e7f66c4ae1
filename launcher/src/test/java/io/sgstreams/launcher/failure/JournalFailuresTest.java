package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.journal.Journal;
import io.sgstreams.journal.JournalRow;
import io.sgstreams.journal.JournalStore;
import io.sgstreams.testkit.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The journal as an operator meets it: {@code sg gateway} (journal on) and two {@code sg worker}
 * processes against a private PostgreSQL. During a burst a worker is SIGKILLed and the journal's
 * gateway is SIGKILLed and started again; then PostgreSQL is stopped for 30 s while messages keep
 * coming, and started again. At the end every stream entry (inbound requests and outbound answers)
 * is journaled exactly once: the rows are the entries, no more, no fewer, no duplicates.
 */
@Timeout(300)
class JournalFailuresTest {
  private static final int BURST = 3000;
  private static final int DURING_OUTAGE = 1500;
  private static final Duration OUTAGE = Duration.ofSeconds(30);

  @Test
  void everyEntryIsJournaledOnceThroughKillsARestartAndAPostgresOutage() throws Exception {
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "sg-journal-pg-");
    int pgPort = ProcessRig.freePort();
    EmbeddedPostgres pg = EmbeddedPostgres.start(dir, pgPort);
    long t0 = System.nanoTime();
    try (ProcessRig rig = new ProcessRig("journal-failures", TestRedis.url(), Duration.ofMillis(3000),
        Map.of("POSTGRES_URL", pg.url(), "SG_JOURNAL_RETRY_MAX_MS", "2000", "SG_CLAIM_INTERVAL_MS", "1000"))) {
      try {
        pg = run(rig, pg, dir, pgPort);
        System.out.printf("JournalFailuresTest: took %d ms%n", Duration.ofNanos(System.nanoTime() - t0).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    } finally {
      pg.close();
    }
  }

  private EmbeddedPostgres run(ProcessRig rig, EmbeddedPostgres pg, Path dir, int pgPort) throws Exception {
    NodeProcess gw = rig.spawnGateway("j1", Map.of());
    NodeProcess w1 = rig.spawnWorker("w1", "echo", Map.of());
    NodeProcess w2 = rig.spawnWorker("w2", "echo", Map.of());
    ProcessRig.awaitReady(List.of(gw, w1, w2));
    RedisEventBus bus = rig.bus(Role.GATEWAY);
    String in = rig.inboundStream();
    String out = rig.outboundStream();
    AtomicInteger published = new AtomicInteger();

    // the burst, with a worker SIGKILLed and the journal's gateway SIGKILLed and restarted in it
    for (int i = 0; i < BURST; i++) {
      bus.publishInbound(InboundEnvelope.create("web", "c" + (i % 16), "u", "m" + i)).block(Duration.ofSeconds(10));
      published.incrementAndGet();
      if (i == BURST / 3) {
        w1.kill();
      }
      if (i == BURST / 2) {
        gw.kill();
        gw = rig.spawnGateway("j1", Map.of());
      }
    }
    ProcessRig.awaitReady(List.of(gw));
    await("the burst answered").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> ProcessRig.outboundCounts(bus, out).size() >= BURST);

    // PostgreSQL stopped for 30 s while messages keep coming
    pg.close();
    long stopped = System.nanoTime();
    for (int i = 0; i < DURING_OUTAGE; i++) {
      bus.publishInbound(InboundEnvelope.create("web", "c" + (i % 16), "u", "outage " + i)).block(Duration.ofSeconds(10));
      published.incrementAndGet();
      Thread.sleep(10);
    }
    long pendingDuringOutage = Streams.pending(bus, in, rig.config().journal().group());
    Thread.sleep(Math.max(0, OUTAGE.toMillis() - Duration.ofNanos(System.nanoTime() - stopped).toMillis()));
    pg = EmbeddedPostgres.start(dir, pgPort);
    long restarted = System.nanoTime();
    System.out.printf("JournalFailuresTest: PostgreSQL down %d ms; the journal held %d inbound entries pending meanwhile%n",
        Duration.ofNanos(restarted - stopped).toMillis(), pendingDuringOutage);
    assertTrue(pendingDuringOutage > 0, "entries are held (pending), not acknowledged, while PostgreSQL is down");

    String group = rig.config().journal().group();
    List<String> streams = Journal.streams(rig.config().topology());
    await("the journal caught up").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> ProcessRig.outboundCounts(bus, out).size() >= published.get()
            && streams.stream().allMatch(s -> Streams.pending(bus, s, group) == 0
                && bus.groupLag(s, group).block().orElse(0) == 0));
    System.out.printf("JournalFailuresTest: caught up %d ms after PostgreSQL came back%n",
        Duration.ofNanos(System.nanoTime() - restarted).toMillis());

    try (JournalStore store = JournalStore.connect(pg.url(), 2)) {
      // every entry still in a stream has its row, with the entry's bytes; trimmed entries' rows stay
      assertRowsHoldTheEntries(bus, store, in, false);
      assertRowsHoldTheEntries(bus, store, out, true);
      // every published request is one row, whatever was trimmed since
      Set<String> envelopeIds = new HashSet<>();
      for (JournalRow r : store.stream(in, 100_000).toIterable()) {
        assertTrue(envelopeIds.add(r.envelopeId()), "inbound envelope journaled twice: " + r.envelopeId());
      }
      assertEquals(published.get(), envelopeIds.size(), "one inbound row per published request");
      // and every request's answer is journaled (a redelivered request may have been answered twice: two entries, two rows)
      Set<String> answered = new HashSet<>();
      for (JournalRow r : store.stream(out, 1_000_000).toIterable()) {
        assertFalse("delta".equals(r.type()), "a delta was journaled: " + r.entryId());
        answered.add(r.inReplyTo());
      }
      Set<String> unanswered = new HashSet<>(envelopeIds);
      unanswered.removeAll(answered);
      assertTrue(unanswered.isEmpty(), unanswered.size() + " requests with no journaled answer, e.g. " + first(unanswered));
    }
    return pg;
  }

  private static List<String> first(Set<String> ids) {
    return ids.stream().limit(5).toList();
  }

  /** Every entry still in {@code stream} (deltas aside) has exactly its row, with the same bytes. */
  private static void assertRowsHoldTheEntries(RedisEventBus bus, JournalStore store, String stream, boolean outbound) {
    Map<String, byte[]> entries = new HashMap<>();
    for (StreamMessage<String, byte[]> m : Streams.all(bus, stream)) {
      byte[] data = m.getBody().get("data");
      if (outbound && bus.codec().decode(data) instanceof OutboundEnvelope o && o.isProgress()) {
        continue;
      }
      entries.put(m.getId(), data);
    }
    Map<String, byte[]> rows = new HashMap<>();
    for (JournalRow r : store.stream(stream, 1_000_000).toIterable()) {
      assertTrue(rows.put(r.entryId(), r.data()) == null, "two rows for " + stream + " " + r.entryId());
    }
    Set<String> missing = new java.util.TreeSet<>(entries.keySet());
    missing.removeAll(rows.keySet());
    assertTrue(missing.isEmpty(), stream + ": " + entries.size() + " entries, " + rows.size() + " rows, "
        + missing.size() + " entries without a row, e.g. " + first(missing));
    entries.forEach((id, data) -> assertTrue(java.util.Arrays.equals(data, rows.get(id)), "row " + id + " holds the entry's bytes"));
  }
}
