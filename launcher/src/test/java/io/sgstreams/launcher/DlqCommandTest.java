package io.sgstreams.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.StreamMessage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.journal.DeadLetterRow;
import io.sgstreams.journal.Journal;
import io.sgstreams.journal.JournalRow;
import io.sgstreams.journal.JournalStore;
import io.sgstreams.journal.testing.TestDatabases;
import io.sgstreams.worker.WorkerNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sg dlq} and {@code sg history} end to end, through {@link Sg#run}, against a worker running in this
 * JVM on real Redis (and, in the journal variant, the journal consumer on a fresh PostgreSQL database): a
 * poison message is dead-lettered after the delivery limit, the handler is fixed, the dead letter is replayed
 * once and answered, and listed, shown and purged.
 */
class DlqCommandTest {
  private record Run(int status, String out, String err) {
    String all() {
      return "status " + status + "\nout:\n" + out + "\nerr:\n" + err;
    }
  }

  private static final Duration T = Duration.ofSeconds(10);
  private final ObjectMapper mapper = new ObjectMapper();
  private final String ns = TestRedis.namespace();
  private final String channel = "poison-" + ns.substring(ns.indexOf(':') + 1);
  private final List<AutoCloseable> closing = new ArrayList<>();
  private RedisEventBus bus;

  @AfterEach
  void close() throws Exception {
    BreakableEchoHandlerFactory.BROKEN.remove(channel);
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** The variables an operator would set for this test's Redis and namespace (plus {@code kv}). */
  private Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    m.put("REDIS_URL", TestRedis.url());
    m.put("HOSTNAME", "dlq-test");
    m.put("USER", "tester");
    m.put("SG_INBOUND_STREAM", ns + ":inbound");
    m.put("SG_WORKER_GROUP", ns + ":workers");
    m.put("SG_OUTBOUND_STREAM_PREFIX", ns + ":outbound");
    m.put("SG_GATEWAY_GROUP_PREFIX", ns + ":gateway");
    m.put("SG_TOOLS_STREAM", ns + ":tools");
    m.put("SG_TOOLS_GROUP", ns + ":tools-group");
    m.put("SG_TOOLS_REPLY_PREFIX", ns + ":tools:reply");
    m.put("SG_DLQ_STREAM", ns + ":dlq");
    m.put("SG_HEARTBEAT_PREFIX", ns + ":heartbeat");
    m.put("SG_MAX_DELIVERIES", "2");
    m.put("SG_CLAIM_MIN_IDLE_MS", "300");
    m.put("SG_CLAIM_INTERVAL_MS", "100");
    m.put("SG_READ_BLOCK_MS", "200");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A worker in this JVM running {@code breakable-echo}, with the journal's store when {@code env} has POSTGRES_URL. */
  private SgConfig startWorker(Map<String, String> env) {
    Map<String, String> e = new HashMap<>(env);
    e.put("SG_NODE_ID", "dlq-worker");
    e.put("SG_WORKER_HANDLER", "breakable-echo");
    e.put("SG_WORKER_ADMIN_PORT", "-1");
    SgConfig config = ConfigLoader.load(null, e);
    bus = RedisEventBus.connect(Role.WORKER, config, new SimpleMeterRegistry());
    closing.add(bus);
    WorkerNode worker = WorkerNode.start(bus, config.worker(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    closing.add(() -> worker.shutdown().block(Duration.ofSeconds(20)));
    return config;
  }

  /** Sends a message the broken handler fails on every delivery; waits until it is dead-lettered; its DLQ id. */
  private String poison(InboundEnvelope in) {
    BreakableEchoHandlerFactory.BROKEN.add(channel);
    bus.publishInbound(in).block(T);
    String dlq = bus.topology().dlqStream();
    await("dead-lettered").atMost(Duration.ofSeconds(20)).until(() -> Streams.length(bus, dlq) == 1);
    StreamMessage<String, byte[]> m = Streams.all(bus, dlq).get(0);
    assertEquals("2", new String(m.getBody().get("deliveries"), StandardCharsets.UTF_8), "after the delivery limit");
    return m.getId();
  }

  private List<OutboundEnvelope> answers(String inReplyTo, String type) {
    List<OutboundEnvelope> out = new ArrayList<>();
    for (StreamMessage<String, byte[]> m : Streams.all(bus, bus.topology().outboundStream("web"))) {
      Envelope e = bus.codec().decode(m.getBody().get(StreamFields.DATA));
      if (e instanceof OutboundEnvelope o && inReplyTo.equals(o.inReplyTo()) && type.equals(o.type())) {
        out.add(o);
      }
    }
    return out;
  }

  @Test
  void aPoisonMessageIsDeadLetteredThenReplayedOnceAndAnsweredByTheFixedWorker() throws Exception {
    Map<String, String> env = env();
    startWorker(env);
    String inbound = bus.topology().inboundStream();
    InboundEnvelope in = InboundEnvelope.create("web", channel, "u1", "please work");
    String id = poison(in);
    assertEquals(1, answers(in.id(), OutboundEnvelope.TYPE_ERROR).size(), "the client was told it was dead-lettered");

    // list: the table and the JSON
    Run list = sg(env, "dlq", "list");
    assertEquals(0, list.status(), list.all());
    assertTrue(list.out().startsWith("DLQ ID"), list.all());
    String line = list.out().lines().filter(l -> l.startsWith(id)).findFirst().orElseThrow(() -> new AssertionError(list.all()));
    assertTrue(line.contains(inbound) && line.contains("java.lang.IllegalStateException: poison") && line.endsWith("no"), line);
    JsonNode listed = mapper.readTree(sg(env, "dlq", "list", "--json", "--stream", inbound, "--error", "java.lang.Illegal").out());
    assertEquals(1, listed.get("dead_letters").size());
    assertEquals(id, listed.get("dead_letters").get(0).get("id").asText());
    assertEquals(2, listed.get("dead_letters").get(0).get("deliveries").asInt());
    assertTrue(listed.get("dead_letters").get(0).get("replayed").isNull());
    assertEquals(0, mapper.readTree(sg(env, "dlq", "list", "--json", "--error", "Timeout").out()).get("dead_letters").size());

    // show: the fields and the envelope decoded
    Run show = sg(env, "dlq", "show", id);
    assertEquals(0, show.status(), show.all());
    assertTrue(show.out().contains("please work") && show.out().contains(in.id()) && show.out().contains("worker-dlq-worker"),
        show.all());
    JsonNode shown = mapper.readTree(sg(env, "dlq", "show", id, "--json").out());
    assertEquals(inbound, shown.get("fields").get("original_stream").asText());
    assertEquals("please work", shown.get("envelope").get("content").asText());
    assertTrue(shown.get("envelope").has("channel_id") && !shown.get("envelope").has("channelId"),
        "the envelope is shown with the wire contract's keys: " + shown.get("envelope"));

    // the handler is fixed; a dry run changes nothing
    BreakableEchoHandlerFactory.BROKEN.remove(channel);
    long inboundBefore = Streams.length(bus, inbound);
    Run dry = sg(env, "dlq", "replay", id, "--dry-run");
    assertEquals(0, dry.status(), dry.all());
    assertTrue(dry.out().contains(id + "  would replay to " + inbound), dry.all());
    assertEquals(inboundBefore, Streams.length(bus, inbound));
    assertEquals(0, bus.connections().commands().exists(bus.topology().replayGuardKey(id)).block(T));

    // replay: re-added with replay_of, answered in reply to the original envelope
    Run replay = sg(env, "dlq", "replay", id);
    assertEquals(0, replay.status(), replay.all());
    assertTrue(replay.out().startsWith(id + "  replayed to " + inbound + " as "), replay.all());
    assertTrue(replay.out().contains("by tester@dlq-test"), replay.all());
    String newId = replay.out().split(" as ")[1].split(" ")[0];
    StreamMessage<String, byte[]> added = Streams.all(bus, inbound).stream().filter(m -> m.getId().equals(newId)).findFirst()
        .orElseThrow();
    assertEquals(id, new String(added.getBody().get(StreamFields.REPLAY_OF), StandardCharsets.UTF_8));
    await("answered").atMost(Duration.ofSeconds(15)).until(() -> answers(in.id(), OutboundEnvelope.TYPE_MESSAGE).size() == 1);
    assertEquals("fixed: please work", answers(in.id(), OutboundEnvelope.TYPE_MESSAGE).get(0).content());

    // a second replay is refused by the guard: nothing re-added
    long inboundAfter = Streams.length(bus, inbound);
    Run again = sg(env, "dlq", "replay", id, "--by", "someone-else");
    assertEquals(0, again.status(), again.all());
    assertTrue(again.out().contains(id + "  already replayed by tester@dlq-test") && again.out().contains(newId), again.all());
    assertEquals(inboundAfter, Streams.length(bus, inbound));
    Run dryAgain = sg(env, "dlq", "replay", "--all", "--dry-run");
    assertTrue(dryAgain.out().contains("already replayed") && dryAgain.out().contains("would skip"), dryAgain.all());
    Thread.sleep(500);
    assertEquals(1, answers(in.id(), OutboundEnvelope.TYPE_MESSAGE).size(), "answered once");

    // listed and shown as replayed
    String relisted = sg(env, "dlq", "list").out();
    assertTrue(relisted.contains("by tester@dlq-test") && relisted.contains(newId), relisted);
    JsonNode replayed = mapper.readTree(sg(env, "dlq", "show", id, "--json").out()).get("replayed");
    assertEquals("tester@dlq-test", replayed.get("by").asText());
    assertEquals(newId, replayed.get("entry_id").asText());

    // purge: needs --yes; a dry run keeps it; then it is gone
    Run noYes = sg(env, "dlq", "purge", id);
    assertEquals(2, noYes.status(), noYes.all());
    assertTrue(noYes.err().contains("--yes"), noYes.all());
    Run dryPurge = sg(env, "dlq", "purge", id, "--dry-run");
    assertEquals(0, dryPurge.status(), dryPurge.all());
    assertEquals(1, Streams.length(bus, bus.topology().dlqStream()));
    Run purge = sg(env, "dlq", "purge", "--yes", id);
    assertEquals(0, purge.status(), purge.all());
    assertTrue(purge.out().contains(id + "  purged"), purge.all());
    assertEquals(0, Streams.length(bus, bus.topology().dlqStream()));
    Run gone = sg(env, "dlq", "show", id);
    assertEquals(3, gone.status(), gone.all());
    assertTrue(gone.err().contains("no dead letter " + id), gone.all());
  }

  /** A dead letter of {@code in} as the engine writes it, added straight to the DLQ stream. */
  private String deadLetter(RedisEventBus b, String stream, InboundEnvelope in, String error) {
    Map<String, byte[]> f = new java.util.LinkedHashMap<>();
    f.put("original_stream", stream.getBytes(StandardCharsets.UTF_8));
    f.put("original_id", "1-0".getBytes(StandardCharsets.UTF_8));
    f.put("group", b.topology().workerGroup().getBytes(StandardCharsets.UTF_8));
    f.put("consumer", "worker-x".getBytes(StandardCharsets.UTF_8));
    f.put("deliveries", "5".getBytes(StandardCharsets.UTF_8));
    f.put("error", error.getBytes(StandardCharsets.UTF_8));
    f.putAll(StreamFields.of(b.codec().encode(in), System.currentTimeMillis(), ""));
    return Streams.add(b, b.topology().dlqStream(), f);
  }

  @Test
  void replayAllSelectsAtARateForceReplaysAgainAndAFullBacklogFails() {
    Map<String, String> env = env();
    SgConfig config = ConfigLoader.load(null, env);
    RedisEventBus b = RedisEventBus.connect(Role.WORKER, config, new SimpleMeterRegistry());
    closing.add(b);
    String inbound = b.topology().inboundStream();
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      picked.add(deadLetter(b, inbound, InboundEnvelope.create("web", channel, "u", "m" + i), "java.lang.IllegalStateException: x"));
    }
    String other = deadLetter(b, b.topology().toolsStream(), InboundEnvelope.create("web", channel, "u", "t"), "java.lang.IllegalStateException: y");
    String timeout = deadLetter(b, inbound, InboundEnvelope.create("web", channel, "u", "slow"), "java.util.concurrent.TimeoutException: z");

    long start = System.nanoTime();
    Run all = sg(env, "dlq", "replay", "--all", "--stream", inbound, "--error", "java.lang.Illegal", "--rate", "5");
    long tookMs = (System.nanoTime() - start) / 1_000_000;
    assertEquals(0, all.status(), all.all());
    List<String> lines = all.out().lines().toList();
    assertEquals(3, lines.size(), all.all());
    for (int i = 0; i < 3; i++) {
      assertTrue(lines.get(i).startsWith(picked.get(i) + "  replayed to " + inbound), all.all());
    }
    assertTrue(tookMs >= 380, "3 replays at 5 per second take at least 0.4 s: " + tookMs + " ms");
    assertEquals(3, Streams.length(b, inbound));
    assertEquals(0, b.deadLetterQueue().replayRecord(other).blockOptional(T).map(r -> 1).orElse(0));
    assertEquals(0, b.deadLetterQueue().replayRecord(timeout).blockOptional(T).map(r -> 1).orElse(0));

    Run forced = sg(env, "dlq", "replay", picked.get(0), "--force", "--by", "ops");
    assertEquals(0, forced.status(), forced.all());
    assertTrue(forced.out().contains("replayed to " + inbound) && forced.out().contains("by ops"), forced.all());
    assertEquals(4, Streams.length(b, inbound));

    // the inbound stream's backlog is full (a group that handles nothing): the replay fails, nothing added, retry later
    b.ensureGroup(inbound, b.topology().workerGroup()).block(T);
    Map<String, byte[]> filler = StreamFields.of(b.codec().encode(InboundEnvelope.create("web", "f", "u", "f")),
        System.currentTimeMillis(), "");
    for (int i = 0; i < b.topology().maxLen() + 10; i++) {
      Streams.add(b, inbound, filler);
    }
    long length = Streams.length(b, inbound);
    Run full = sg(env, "dlq", "replay", timeout);
    assertEquals(1, full.status(), full.all());
    assertTrue(full.out().contains(timeout + "  failed: " + inbound + " refuses it: backlog full"), full.all());
    assertEquals(length, Streams.length(b, inbound));
    Run dry = sg(env, "dlq", "replay", timeout, "--dry-run");
    assertTrue(dry.out().contains("would replay"), "the failed replay gave its guard back: " + dry.all());
  }

  @Test
  void badInputAndUnreachableServersHaveTheirOwnExitStatus() {
    Map<String, String> env = env();
    Run badId = sg(env, "dlq", "show", "not-an-id");
    assertEquals(2, badId.status(), badId.all());
    assertTrue(badId.err().contains("not a dead letter id"), badId.all());
    Run unknown = sg(env, "dlq", "replay", "1-0");
    assertEquals(3, unknown.status(), unknown.all());
    assertTrue(unknown.out().contains("1-0  not found"), unknown.all());
    Run badTime = sg(env, "dlq", "purge", "--before", "yesterday", "--yes");
    assertEquals(2, badTime.status(), badTime.all());
    assertTrue(badTime.err().contains("ISO-8601"), badTime.all());
    Run both = sg(env, "dlq", "replay", "1-0", "--all");
    assertEquals(2, both.status(), both.all());
    Run noRedis = sg(env("REDIS_URL", "redis://127.0.0.1:1"), "dlq", "list");
    assertEquals(5, noRedis.status(), noRedis.all());
    assertTrue(noRedis.err().contains("Redis is unreachable"), noRedis.all());
    Run noPostgres = sg(env("POSTGRES_URL", "postgresql://sg@127.0.0.1:1/sg"), "dlq", "list");
    assertEquals(6, noPostgres.status(), noPostgres.all());
    assertTrue(noPostgres.err().contains("PostgreSQL is unreachable"), noPostgres.all());
    Run noJournal = sg(env, "history", "c1");
    assertEquals(2, noJournal.status(), noJournal.all());
    assertTrue(noJournal.err().contains("POSTGRES_URL"), noJournal.all());
    Run purgeBefore = sg(env, "dlq", "purge", "--before", "1h", "--yes");
    assertEquals(0, purgeBefore.status(), purgeBefore.all());
    assertTrue(purgeBefore.out().contains("purged 0 dead letters"), purgeBefore.all());
  }

  @Test
  void withTheJournalTheReplayIsRecordedAndTheConversationPrinted() throws Exception {
    String db = TestDatabases.fresh();
    Map<String, String> env = env("POSTGRES_URL", db);
    SgConfig config = startWorker(env);
    JournalStore store = JournalStore.connect(db, 4);
    closing.add(store);
    RedisEventBus journalBus = RedisEventBus.connect(Role.GATEWAY, config.withNodeId("dlq-journal"), new SimpleMeterRegistry());
    closing.add(journalBus);
    Journal journal = Journal.start(journalBus, store, new SimpleMeterRegistry());
    closing.add(journal);

    String dlq = bus.topology().dlqStream();
    InboundEnvelope in = InboundEnvelope.create("web", channel, "u1", "remember me");
    String id = poison(in);
    await("journaled").atMost(T).until(() -> store.deadLetter(dlq, id).block(T) != null);
    BreakableEchoHandlerFactory.BROKEN.remove(channel);

    Run replay = sg(env, "dlq", "replay", id, "--by", "ops@test");
    assertEquals(0, replay.status(), replay.all());
    String newId = replay.out().split(" as ")[1].split(" ")[0];
    DeadLetterRow row = store.deadLetter(dlq, id).block(T);
    assertEquals("ops@test", row.replayedBy());
    assertEquals(newId, row.replayEntryId());
    assertNotNull(row.replayedAt());
    await("answered").atMost(Duration.ofSeconds(15)).until(() -> answers(in.id(), OutboundEnvelope.TYPE_MESSAGE).size() == 1);

    // the journal refuses a second replay even without the Redis guard (e.g. expired)
    bus.connections().commands().del(bus.topology().replayGuardKey(id)).block(T);
    Run again = sg(env, "dlq", "replay", id);
    assertEquals(0, again.status(), again.all());
    assertTrue(again.out().contains("already replayed by ops@test"), again.all());
    assertEquals(newId, store.deadLetter(dlq, id).block(T).replayEntryId());

    // the replayed message is journaled with replay_of; the conversation reads oldest first
    await("replay journaled").atMost(T).until(() -> store.stream(bus.topology().inboundStream(), 100).collectList().block(T)
        .stream().anyMatch(r -> id.equals(r.replayOf())));
    String outbound = bus.topology().outboundStream("web");
    await("answer journaled").atMost(T).until(() -> store.stream(outbound, 100).collectList().block(T).stream()
        .anyMatch(r -> "message".equals(r.type()) && in.id().equals(r.inReplyTo())));
    Run history = sg(env, "history", channel);
    assertEquals(0, history.status(), history.all());
    List<String> lines = history.out().lines().toList();
    assertTrue(lines.get(0).startsWith("# channel " + channel), history.all());
    // the original message, the error reply, the replayed message, the answer
    assertEquals(5, lines.size(), history.all());
    assertTrue(lines.get(1).contains("→ u1") && lines.get(1).contains("remember me") && !lines.get(1).contains("replay of"),
        history.all());
    assertTrue(lines.get(2).contains("← error"), history.all());
    assertTrue(lines.get(3).contains("→ u1") && lines.get(3).contains("(replay of dead letter " + id + ")"), history.all());
    assertTrue(lines.get(4).contains("← message") && lines.get(4).contains("fixed: remember me"), history.all());

    // paging: two at a time, the cursor leads to the older part
    Run page = sg(env, "history", channel, "--limit", "2", "--json");
    JsonNode p1 = mapper.readTree(page.out());
    assertEquals(2, p1.get("messages").size());
    assertEquals("fixed: remember me", p1.get("messages").get(1).get("content").asText());
    Run older = sg(env, "history", channel, "--limit", "2", "--json", "--before", p1.get("next_before").asText());
    JsonNode p2 = mapper.readTree(older.out());
    assertEquals("remember me", p2.get("messages").get(0).get("content").asText());
    assertTrue(p2.get("next_before").isNull(), older.all());
    assertEquals(2, sg(env, "history", channel, "--before", "garbage").status());

    // purged: the row stays, marked; listings leave it out
    assertEquals(0, sg(env, "dlq", "purge", "--yes", id).status());
    assertNotNull(store.deadLetter(dlq, id).block(T).purgedAt());
    JsonNode listed = mapper.readTree(sg(env, "dlq", "list", "--json").out());
    assertEquals(0, listed.get("dead_letters").size(), listed.toString());
    assertTrue(listed.get("journal").asBoolean());
  }

  @Test
  void theJournalListsDeadLettersNoLongerInTheStream() throws Exception {
    String db = TestDatabases.fresh();
    Map<String, String> env = env("POSTGRES_URL", db);
    SgConfig config = startWorker(env);
    JournalStore store = JournalStore.connect(db, 4);
    closing.add(store);
    RedisEventBus journalBus = RedisEventBus.connect(Role.GATEWAY, config.withNodeId("dlq-journal2"), new SimpleMeterRegistry());
    closing.add(journalBus);
    closing.add(Journal.start(journalBus, store, new SimpleMeterRegistry()));

    String dlq = bus.topology().dlqStream();
    InboundEnvelope in = InboundEnvelope.create("web", channel, "u1", "trimmed away");
    String id = poison(in);
    await("journaled").atMost(T).until(() -> store.deadLetter(dlq, id).block(T) != null);
    // gone from the stream without sg dlq purge (as the stream's cap would trim it)
    bus.connections().commands().xdel(dlq, id).block(T);
    JsonNode listed = mapper.readTree(sg(env, "dlq", "list", "--json").out());
    assertEquals(1, listed.get("dead_letters").size(), listed.toString());
    assertEquals(id, listed.get("dead_letters").get(0).get("id").asText());
    assertEquals(false, listed.get("dead_letters").get(0).get("in_stream").asBoolean());
    JsonNode oldest = mapper.readTree(sg(env, "dlq", "list", "--json", "--oldest").out());
    assertEquals(id, oldest.get("dead_letters").get(0).get("id").asText(), oldest.toString());
    Run text = sg(env, "dlq", "list");
    assertTrue(text.out().contains("journal only"), text.all());
    Run show = sg(env, "dlq", "show", id);
    assertEquals(0, show.status(), show.all());
    assertTrue(show.out().contains("trimmed away") && show.out().contains("from the journal"), show.all());
    Run replay = sg(env, "dlq", "replay", id);
    assertEquals(3, replay.status(), replay.all());
    JournalRow none = store.stream(bus.topology().inboundStream(), 100).collectList().block(T).stream()
        .filter(r -> id.equals(r.replayOf())).findFirst().orElse(null);
    assertNull(none, "nothing replayed");
    assertNull(store.deadLetter(dlq, id).block(T).replayedBy(), "the journal's claim was given back");
  }
}
