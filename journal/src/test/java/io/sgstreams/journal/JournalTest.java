package io.sgstreams.journal;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.journal.testing.TcpProxy;
import io.sgstreams.journal.testing.TestDatabases;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The journal consumer against a real Redis and a real PostgreSQL (a fresh database per test). */
@Timeout(120)
class JournalTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private final List<AutoCloseable> closeables = new java.util.ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private SgConfig config(String node, String db) {
    SgConfig base = TestRedis.config(node);
    return base.withJournal(base.journal().withPostgresUrl(db).withBatch(50, Duration.ofMillis(20))
        .withRetryMax(Duration.ofMillis(500)));
  }

  private RedisEventBus bus(SgConfig config) {
    RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
    closeables.add(bus);
    return bus;
  }

  private JournalStore store(String url) {
    JournalStore s = JournalStore.connect(url, 4);
    closeables.add(s);
    return s;
  }

  private Journal journal(RedisEventBus bus, JournalStore store, SimpleMeterRegistry registry) {
    Journal j = Journal.start(bus, store, registry);
    closeables.add(j);
    return j;
  }

  private static long pendingEverywhere(RedisEventBus bus) {
    String group = bus.config().journal().group();
    return Journal.streams(bus.topology()).stream().mapToLong(s -> Streams.pending(bus, s, group)).sum();
  }

  @Test
  void everyEnvelopeOnceAsWrittenDeltasSkippedDeadLettersKeptAndARedeliveryDuplicatesNothing() throws Exception {
    String db = TestDatabases.fresh();
    SgConfig config = config("j1", db);
    RedisEventBus bus = bus(config);
    // entries written before the journal starts: its group starts at the beginning of the streams
    Map<String, Envelope> published = new LinkedHashMap<>();
    for (int i = 0; i < 60; i++) {
      String tenant = i % 2 == 0 ? "acme" : "globex";
      InboundEnvelope in = InboundEnvelope.create("web", "chan-" + (i % 5), "u" + i, "question é " + i).withTenant(tenant);
      published.put(config.topology().inboundStream() + ' ' + bus.publishInbound(in).block(), in);
      OutboundEnvelope answer = OutboundEnvelope.replyTo(in, "message", "answer " + i);
      published.put(config.topology().outboundStream("web") + ' ' + bus.publishOutbound("web", answer).block(), answer);
      if (i % 4 == 0) {
        bus.publishOutbound("web", OutboundEnvelope.delta(in, 1, 0, "ans")).block();
      }
    }
    String garbage = bus.publishFields(config.topology().inboundStream(),
        StreamFields.of("not msgpack".getBytes(StandardCharsets.UTF_8), 1L, "")).block();
    InboundEnvelope poison = InboundEnvelope.create("web", "chan-x", "u", "poison").withTenant("acme");
    Map<String, byte[]> dl = new LinkedHashMap<>();
    dl.put(DeadLetters.ORIGINAL_STREAM, config.topology().inboundStream().getBytes(StandardCharsets.UTF_8));
    dl.put(DeadLetters.ORIGINAL_ID, "1-1".getBytes(StandardCharsets.UTF_8));
    dl.put(DeadLetters.GROUP, config.topology().workerGroup().getBytes(StandardCharsets.UTF_8));
    dl.put(DeadLetters.CONSUMER, "worker-w1".getBytes(StandardCharsets.UTF_8));
    dl.put(DeadLetters.DELIVERIES, "5".getBytes(StandardCharsets.UTF_8));
    dl.put(DeadLetters.ERROR, "java.lang.IllegalStateException: boom".getBytes(StandardCharsets.UTF_8));
    dl.put(StreamFields.DATA, bus.codec().encode(poison));
    dl.put(StreamFields.TS, "1700000000000".getBytes(StandardCharsets.UTF_8));
    dl.put(StreamFields.TRACE_ID, "".getBytes(StandardCharsets.UTF_8));
    String dlqId = bus.publishFields(config.topology().dlqStream(), dl).block();

    JournalStore store = store(db);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Journal journal = journal(bus, store, registry);
    String in = config.topology().inboundStream();
    String out = config.topology().outboundStream("web");
    await().atMost(WITHIN).ignoreExceptions().until(() -> store.count(in).block() == 61 && store.count(out).block() == 60
        && pendingEverywhere(bus) == 0);

    // rows equal envelopes: the data bytes decode to what was published, the columns say the same
    for (JournalRow r : store.stream(in, 1000).concatWith(store.stream(out, 1000)).collectList().block()) {
      if (r.entryId().equals(garbage) && r.stream().equals(in)) {
        assertEquals(JournalRow.UNDECODABLE, r.kind());
        assertEquals("not msgpack", new String(r.data(), StandardCharsets.UTF_8));
        continue;
      }
      Envelope e = published.get(r.stream() + ' ' + r.entryId());
      assertEquals(e, bus.codec().decode(r.data()), "row " + r.stream() + " " + r.entryId());
      assertEquals(e.id(), r.envelopeId());
      assertEquals(e.tenant(), r.tenantId());
      assertEquals(e.channelId(), r.channelId());
      assertEquals(e.enqueuedAt(), r.enqueuedAt());
      if (e instanceof InboundEnvelope i) {
        assertEquals("inbound", r.kind());
        assertEquals(i.content(), r.content());
        assertEquals(i.userId(), r.userId());
      } else {
        OutboundEnvelope o = (OutboundEnvelope) e;
        assertEquals("outbound", r.kind());
        assertEquals("message", r.type(), "deltas are not journaled");
        assertEquals(o.inReplyTo(), r.inReplyTo());
      }
    }
    DeadLetterRow d = store.deadLetter(config.topology().dlqStream(), dlqId).block();
    assertEquals(in, d.originalStream());
    assertEquals("1-1", d.originalId());
    assertEquals(5L, d.deliveries());
    assertEquals("java.lang.IllegalStateException: boom", d.error());
    assertEquals(poison.id(), d.envelopeId());
    assertEquals("acme", d.tenantId());
    assertArrayEquals(bus.codec().encode(poison), d.data());
    assertNull(d.replayedAt());
    assertEquals(15.0, registry.get("sg.journal.skipped").counter().count());

    // every entry delivered again (as after a crash before the acks, or a reset group): no new rows
    journal.close();
    closeables.remove(journal);
    try (RedisClient client = RedisClient.create(TestRedis.url());
        StatefulRedisConnection<String, String> c = client.connect()) {
      for (String s : Journal.streams(config.topology())) {
        c.sync().xgroupSetid(io.lettuce.core.XReadArgs.StreamOffset.from(s, "0"), config.journal().group());
      }
    }
    SimpleMeterRegistry again = new SimpleMeterRegistry();
    journal(bus, store, again);
    await().atMost(WITHIN).until(() -> again.find("sg.journal.rows").counter() != null
        && again.get("sg.journal.rows").counter().count() >= 122 && pendingEverywhere(bus) == 0);
    assertEquals(61L, store.count(in).block());
    assertEquals(60L, store.count(out).block());
    assertEquals(1, store.deadLetters(config.topology().dlqStream(), null, null, true, 100).count().block());
  }

  @Test
  void postgresGoneHoldsEntriesPendingAndEverythingIsWrittenOnceWhenItIsBack() throws Exception {
    String db = TestDatabases.fresh();
    TcpProxy proxy = TcpProxy.to(db);
    closeables.add(proxy);
    String viaProxy = proxy.through(db);
    SgConfig config = config("j2", viaProxy);
    RedisEventBus bus = bus(config);
    JournalStore store = store(viaProxy);
    journal(bus, store, new SimpleMeterRegistry());
    JournalStore direct = store(db);
    String in = config.topology().inboundStream();

    for (int i = 0; i < 300; i++) {
      bus.publishInbound(InboundEnvelope.create("web", "c" + (i % 7), "u", "before " + i)).block();
    }
    await().atMost(WITHIN).ignoreExceptions().until(() -> direct.count(in).block() == 300 && pendingEverywhere(bus) == 0);

    proxy.cut();
    for (int i = 0; i < 700; i++) {
      bus.publishInbound(InboundEnvelope.create("web", "c" + (i % 7), "u", "during " + i)).block();
    }
    // nothing acknowledged while nothing can be written
    await().atMost(WITHIN).until(() -> pendingEverywhere(bus) > 0);
    Thread.sleep(2000);
    assertEquals(300L, direct.count(in).block());
    assertTrue(pendingEverywhere(bus) + 0 > 0 || Streams.length(bus, in) == 1000);

    proxy.restore();
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> direct.count(in).block() == 1000 && pendingEverywhere(bus) == 0);
    Map<String, Long> perEnvelope = new HashMap<>();
    direct.stream(in, 5000).toIterable().forEach(r -> perEnvelope.merge(r.envelopeId(), 1L, Long::sum));
    assertEquals(1000, perEnvelope.size());
    assertTrue(perEnvelope.values().stream().allMatch(n -> n == 1));
  }
}
