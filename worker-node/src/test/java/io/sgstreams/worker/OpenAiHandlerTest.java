package io.sgstreams.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/** The openai handler against a fake OpenAI-compatible server on a free loopback port. */
class OpenAiHandlerTest {
  static final Duration WITHIN = Duration.ofSeconds(15);
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  static final List<String> auth = new CopyOnWriteArrayList<>();
  static final AtomicInteger failCalls = new AtomicInteger();
  static final AtomicInteger loopCalls = new AtomicInteger();
  static DisposableServer server;

  @BeforeAll
  static void startFake() {
    server = HttpServer.create().host("127.0.0.1").port(0).route(r -> r
        // first a tool call to calc, then a final answer quoting the tool result
        .post("/v1/chat/completions", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
          JsonNode json = read(body);
          requests.add(json);
          auth.add(req.requestHeaders().get("Authorization"));
          JsonNode last = json.path("messages").get(json.path("messages").size() - 1);
          String answer = "tool".equals(last.path("role").asText())
              ? message("The answer is " + last.path("content").asText())
              : toolCall("call_1", "calc", "{\"expr\":\"2*21\"}");
          return res.header("Content-Type", "application/json").sendString(Mono.just(answer)).then();
        }))
        .post("/fail/chat/completions", (req, res) -> req.receive().then(Mono.defer(() -> {
          failCalls.incrementAndGet();
          return res.status(500).sendString(Mono.just(
              "{\"error\":\"overloaded at shard db-7.internal\",\"echo\":\"Bearer sk-live-SECRET\"}")).then();
        })))
        .post("/loop/chat/completions", (req, res) -> req.receive().then(Mono.defer(() -> {
          int n = loopCalls.incrementAndGet();
          return res.header("Content-Type", "application/json")
              .sendString(Mono.just(toolCall("call_" + n, "echo", "{\"text\":\"again\"}"))).then();
        }))))
        .bindNow();
  }

  @AfterAll
  static void stopFake() {
    server.disposeNow();
  }

  static String base(String path) {
    return "http://127.0.0.1:" + server.port() + path;
  }

  @Test
  void toolCallRoundTripEndsInTheModelsFinalAnswer() throws Exception {
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/v1"),
        "OPENAI_API_KEY", "sk-test", "OPENAI_MODEL", "fake-model", "SG_OPENAI_SYSTEM_PROMPT", "be brief"))) {
      InboundEnvelope in = rig.send("what is 2*21?");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
      assertEquals(OutboundEnvelope.TYPE_MESSAGE, out.type());
      assertEquals("The answer is 42", out.content());
      List<OutboundEnvelope> all = Outbound.allTo(rig.bus, "web", in.id());
      // this fake answers one JSON completion (no streaming): no deltas, the final message carries the answer
      assertEquals(List.of("tool_call", "message"), all.stream().map(OutboundEnvelope::type).toList(),
          "the tool call announced, then the whole answer");
      assertEquals("calc", all.get(0).content());

      assertEquals(2, requests.size());
      JsonNode first = requests.get(0);
      assertEquals("fake-model", first.path("model").asText());
      assertEquals("system", first.path("messages").get(0).path("role").asText());
      assertEquals("what is 2*21?", first.path("messages").get(1).path("content").asText());
      List<String> offered = JSON.convertValue(first.path("tools").findValuesAsText("name"), List.class);
      assertEquals(List.of("echo", "clock", "calc"), offered);
      JsonNode second = requests.get(1).path("messages");
      JsonNode assistant = second.get(2);
      assertEquals("calc", assistant.path("tool_calls").get(0).path("function").path("name").asText());
      JsonNode toolMsg = second.get(3);
      assertEquals("tool", toolMsg.path("role").asText());
      assertEquals("call_1", toolMsg.path("tool_call_id").asText());
      assertEquals("42", toolMsg.path("content").asText());
      assertEquals(List.of("Bearer sk-test", "Bearer sk-test"), auth);
      assertEquals(2.0, rig.registry.get(WorkerMetrics.LLM_CALLS).tag("outcome", "ok").counter().count());
    }
  }

  @Test
  void aModelThatKeepsFailingGivesAnErrorReplyAfterRetriesThatQuotesNothingOfItsAnswer() {
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/fail")))) {
      InboundEnvelope in = rig.send("hello");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
      assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
      assertEquals("upstream_unavailable", out.error().code());
      for (String leak : List.of("SECRET", "sk-live", "db-7.internal", "overloaded", "HTTP 500", "127.0.0.1")) {
        assertTrue(!out.content().contains(leak) && !out.error().message().contains(leak), leak + " in " + out);
      }
      assertEquals(3, failCalls.get(), "one call and two retries");
      // acknowledged, not retried forever
      org.awaitility.Awaitility.await().atMost(WITHIN).until(() -> io.sgstreams.core.testing.Streams.pending(
          rig.bus, rig.config.topology().inboundStream(), rig.config.topology().workerGroup()) == 0);
    }
  }

  @Test
  void tooManyToolRoundsGiveAnErrorReply() {
    try (Rig rig = new Rig(true, Map.of("SG_WORKER_HANDLER", "openai", "OPENAI_BASE_URL", base("/loop"),
        "SG_OPENAI_MAX_TOOL_ROUNDS", "2"))) {
      InboundEnvelope in = rig.send("loop forever");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
      assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
      assertEquals("too_many_tool_rounds", out.error().code());
      assertTrue(out.content().contains("too many tool calls"), out.content());
      assertEquals(3, loopCalls.get());
      assertEquals(List.of("echo", "echo"), Outbound.allTo(rig.bus, "web", in.id()).stream()
          .filter(o -> o.type().equals("tool_call")).map(OutboundEnvelope::content).toList(),
          "each round that ran a tool announced it; the third asked again and was refused");
    }
  }

  static JsonNode read(String body) {
    try {
      return JSON.readTree(body);
    } catch (Exception e) {
      throw new IllegalArgumentException(e);
    }
  }

  static String message(String content) {
    return JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
        .put("index", 0).put("finish_reason", "stop")
        .set("message", JSON.createObjectNode().put("role", "assistant").put("content", content)))).toString();
  }

  static String toolCall(String id, String name, String args) {
    var call = JSON.createObjectNode().put("id", id).put("type", "function");
    call.putObject("function").put("name", name).put("arguments", args);
    var msg = JSON.createObjectNode().put("role", "assistant").putNull("content");
    msg.putArray("tool_calls").add(call);
    return JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
        .put("index", 0).put("finish_reason", "tool_calls").set("message", msg))).toString();
  }
}
