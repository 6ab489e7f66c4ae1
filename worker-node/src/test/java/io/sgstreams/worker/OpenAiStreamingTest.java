package io.sgstreams.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The openai handler against a fake OpenAI-compatible server that streams (chunked SSE
 * {@code data:} lines ending with {@code [DONE]}), as vLLM, Ollama or llama.cpp's server do.
 */
class OpenAiStreamingTest {
  static final Duration WITHIN = Duration.ofSeconds(30);
  static final ObjectMapper JSON = new ObjectMapper();
  static final int TOKENS = 500;
  static final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  static DisposableServer server;

  @BeforeAll
  static void startFake() {
    server = HttpServer.create().host("127.0.0.1").port(0).route(r -> r
        // 500 tokens, 2 ms apart; a word split across two network chunks and a multi-byte character
        .post("/v1/chat/completions", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
          JsonNode json = OpenAiHandlerTest.read(body);
          requests.add(json);
          Flux<String> lines = Flux.range(0, TOKENS)
              .delayElements(Duration.ofMillis(2))
              .map(i -> "data: " + chunk("t" + i + (i % 50 == 0 ? "é" : "") + " ") + "\n\n")
              .concatWith(Mono.just("data: [DONE]\n\n"));
          return res.header("Content-Type", "text/event-stream").sendString(lines).then();
        }))
        // the conversation's turns: answers "answer to <question>" in three chunks
        .post("/echo/v1/chat/completions", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
          JsonNode json = OpenAiHandlerTest.read(body);
          requests.add(json);
          JsonNode msgs = json.path("messages");
          String q = msgs.get(msgs.size() - 1).path("content").asText();
          String a = "answer to " + q;
          int third = a.length() / 3;
          Flux<String> lines = Flux.just(a.substring(0, third), a.substring(third, 2 * third), a.substring(2 * third))
              .map(p -> "data: " + chunk(p) + "\n\n")
              .concatWith(Mono.just("data: [DONE]\n\n"));
          return res.header("Content-Type", "text/event-stream").sendString(lines).then();
        })))
        .bindNow();
  }

  @AfterAll
  static void stopFake() {
    server.disposeNow();
  }

  static String chunk(String content) {
    var delta = JSON.createObjectNode().put("content", content);
    return JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
        .put("index", 0).set("delta", delta))).toString();
  }

  private static String base(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  @Test
  void aLongAnswerArrivesAsCoalescedDeltasInOrderThenTheWholeMessage() {
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/v1"),
        "SG_STREAM_DELTA_MS", "50", "SG_STREAM_DELTA_TOKENS", "64", "SG_OPENAI_HISTORY_TURNS", "0"))) {
      long sent = System.currentTimeMillis();
      InboundEnvelope in = rig.send("tell me a long story");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
      assertEquals(OutboundEnvelope.TYPE_MESSAGE, out.type());

      List<StreamMessage<String, byte[]>> entries = Streams.all(rig.bus, rig.config.topology().outboundStream("web"));
      List<OutboundEnvelope> deltas = new ArrayList<>();
      String firstDeltaId = null;
      for (StreamMessage<String, byte[]> m : entries) {
        OutboundEnvelope o = rig.bus.codec().decode(m.getBody().get("data"), OutboundEnvelope.class);
        if (o.inReplyTo().equals(in.id()) && o.type().equals(OutboundEnvelope.TYPE_DELTA)) {
          deltas.add(o);
          firstDeltaId = firstDeltaId == null ? m.getId() : firstDeltaId;
        }
      }
      StringBuilder joined = new StringBuilder();
      for (int i = 0; i < deltas.size(); i++) {
        assertEquals(i, deltas.get(i).seq(), "deltas in order, seq from 0");
        assertEquals(1, deltas.get(i).attempt(), "the first delivery's generation");
        joined.append(deltas.get(i).content());
      }
      assertEquals(out.content(), joined.toString(), "the final message is the deltas concatenated");
      StringBuilder expected = new StringBuilder();
      for (int i = 0; i < TOKENS; i++) {
        expected.append("t").append(i).append(i % 50 == 0 ? "é" : "").append(' ');
      }
      assertEquals(expected.toString(), out.content(), "every token, multi-byte characters intact");
      assertTrue(deltas.size() >= 8 && deltas.size() <= 100,
          "coalesced: tens of XADDs for " + TOKENS + " tokens, not hundreds: " + deltas.size());
      long firstDeltaMs = EntryIds.millis(firstDeltaId) - sent;
      System.out.printf("OpenAiStreamingTest: %d tokens -> %d delta XADDs + 1 message; first delta %d ms after the "
          + "message was published (the fake model's first token comes after 2 ms)%n", TOKENS, deltas.size(), firstDeltaMs);
    }
  }

  @Test
  void theLastTurnsOfTheConversationAreSentBoundedAndPerConversation() {
    String prefix = "test:" + UUID.randomUUID().toString().substring(0, 8) + ":memory";
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/echo/v1"),
        "SG_OPENAI_HISTORY_TURNS", "2", "SG_OPENAI_HISTORY_PREFIX", prefix))) {
      requests.clear();
      for (String q : List.of("q1", "q2", "q3", "q4")) {
        InboundEnvelope in = rig.send(q);
        assertEquals("answer to " + q, Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN).content());
      }
      // the fourth question carries the two turns before it, not the first
      assertEquals(List.of("user:q2", "assistant:answer to q2", "user:q3", "assistant:answer to q3", "user:q4"),
          roles(requests.get(3)));
      assertEquals(List.of("user:q1"), roles(requests.get(0)), "nothing before the first");

      // another tenant, same channel: its own conversation
      InboundEnvelope other = InboundEnvelope.create("web", "chan", "user", "q5").withTenant("globex");
      rig.bus.publishInbound(other).block(WITHIN);
      Outbound.awaitReply(rig.bus, "web", other.id(), WITHIN);
      assertEquals(List.of("user:q5"), roles(requests.get(4)));
    }
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/echo/v1"),
        "SG_OPENAI_HISTORY_TURNS", "10", "SG_OPENAI_HISTORY_MAX_CHARS", "20", "SG_OPENAI_HISTORY_PREFIX", prefix))) {
      requests.clear();
      InboundEnvelope in = rig.send("q6");
      Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
      // the same conversation's memory, bounded to 20 characters: only the newest turn fits
      assertEquals(List.of("user:q4", "assistant:answer to q4", "user:q6"), roles(requests.get(0)));
    }
  }

  @Test
  void withTheJournalTheTurnsComeFromItAndRedisIsTheFallback() throws Exception {
    String db = io.sgstreams.journal.testing.TestDatabases.fresh();
    String prefix = "test:" + UUID.randomUUID().toString().substring(0, 8) + ":memory";
    // the worker reaches PostgreSQL through a proxy the test can cut
    try (io.sgstreams.journal.testing.TcpProxy proxy = io.sgstreams.journal.testing.TcpProxy.to(db);
        Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/echo/v1"),
            "SG_OPENAI_HISTORY_TURNS", "2", "SG_OPENAI_HISTORY_PREFIX", prefix, "POSTGRES_URL", proxy.through(db)));
        io.sgstreams.core.bus.RedisEventBus gw = io.sgstreams.core.testing.TestRedis.bus(
            io.sgstreams.core.testing.TestRedis.url(), io.sgstreams.core.topology.Role.GATEWAY, rig.config.withNodeId("jgw"));
        io.sgstreams.journal.JournalStore store = io.sgstreams.journal.JournalStore.connect(db, 2);
        io.sgstreams.journal.Journal journal = io.sgstreams.journal.Journal.start(gw, store,
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry())) {
      String out = rig.config.topology().outboundStream("web");
      requests.clear();
      int answered = 0;
      for (String q : List.of("q1", "q2", "q3")) {
        InboundEnvelope in = rig.send(q);
        Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
        long n = ++answered;
        org.awaitility.Awaitility.await().atMost(WITHIN).ignoreExceptions().until(() -> store.count(out).block() >= n);
      }
      // the Redis record is gone: the turns can only come from the journal
      try (io.lettuce.core.RedisClient client = io.lettuce.core.RedisClient.create(io.sgstreams.core.testing.TestRedis.url());
          var c = client.connect()) {
        List<String> keys = c.sync().keys(prefix + "*");
        assertTrue(!keys.isEmpty(), "the Redis record was written too");
        c.sync().del(keys.toArray(new String[0]));
      }
      InboundEnvelope q4 = rig.send("q4");
      Outbound.awaitReply(rig.bus, "web", q4.id(), WITHIN);
      assertEquals(List.of("user:q2", "assistant:answer to q2", "user:q3", "assistant:answer to q3", "user:q4"),
          roles(requests.get(3)));
      org.awaitility.Awaitility.await().atMost(WITHIN).ignoreExceptions().until(() -> store.count(out).block() >= 4);

      // the journal unreachable for the worker: the Redis record (holding q4's turn only) is the fallback
      proxy.cut();
      requests.clear();
      InboundEnvelope q5 = rig.send("q5");
      Outbound.awaitReply(rig.bus, "web", q5.id(), Duration.ofSeconds(40));
      assertEquals(List.of("user:q4", "assistant:answer to q4", "user:q5"), roles(requests.get(0)));
    }
  }

  private static List<String> roles(JsonNode request) {
    List<String> out = new ArrayList<>();
    for (JsonNode m : request.path("messages")) {
      out.add(m.path("role").asText() + ":" + m.path("content").asText());
    }
    return out;
  }
}
