package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * {@code sg send} against a standalone pipeline whose {@code openai} handler talks to a fake
 * OpenAI-compatible server that streams: the answer is printed as it streams, {@code --json}
 * prints every envelope, {@code --no-stream} waits for the whole answer, and an error reply
 * (the model failing) ends with exit status 6 and its code.
 */
@Timeout(120)
class StreamedAnswerTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int TOKENS = 60;
  private static DisposableServer model;

  @BeforeAll
  static void startModel() {
    model = HttpServer.create().host("127.0.0.1").port(0).route(r -> r
        .post("/v1/chat/completions", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
          Flux<String> lines = Flux.range(0, TOKENS)
              .delayElements(Duration.ofMillis(3))
              .map(i -> "data: " + chunk("w" + i + " ") + "\n\n")
              .concatWith(Mono.just("data: [DONE]\n\n"));
          return res.header("Content-Type", "text/event-stream").sendString(lines).then();
        }))
        .post("/down/v1/chat/completions", (req, res) -> req.receive().then(res.status(500).sendString(Mono.just("{\"error\":\"secret stack\"}")).then())))
        .bindNow();
  }

  @AfterAll
  static void stopModel() {
    model.disposeNow();
  }

  private static String chunk(String content) {
    var delta = JSON.createObjectNode().put("content", content);
    return JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
        .put("index", 0).set("delta", delta))).toString();
  }

  private record Run(int status, String out, String err) {}

  private static Run sg(String... args) {
    return sg(Map.of(), args);
  }

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Pipeline standalone(String nodeId, String modelPath, String... extra) throws Exception {
    Map<String, String> env = new HashMap<>(Map.of(
        "SG_NODE_ID", nodeId,
        "SG_HTTP_PORT", "0",
        "SG_WORKER_ADMIN_PORT", "-1",
        "SG_WORKER_HANDLER", "openai",
        "OPENAI_BASE_URL", "http://127.0.0.1:" + model.port() + modelPath + "/v1",
        "SG_STREAM_DELTA_TOKENS", "4",
        "SG_JOURNAL", "off"));
    for (int i = 0; i < extra.length; i += 2) {
      env.put(extra[i], extra[i + 1]);
    }
    SgConfig fromEnv = ConfigLoader.load(null, env);
    SgConfig test = TestRedis.config(nodeId);
    SgConfig config = fromEnv.withTopology(test.topology()).withConsumer(test.consumer()).withRedisUrl(TestRedis.url());
    return Pipeline.start(Role.STANDALONE, config, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
  }

  @Test
  void sendPrintsTheAnswerAsItStreamsAndEveryEnvelopeWithJson() throws Exception {
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < TOKENS; i++) {
      expected.append('w').append(i).append(' ');
    }
    try (Pipeline p = standalone("stream-send", "")) {
      String url = "http://127.0.0.1:" + p.gateway().port();

      Run streamed = sg("send", "tell me", "--url", url, "--channel", "c1", "--wait", "30");
      assertEquals(0, streamed.status(), streamed.err());
      assertEquals(expected.toString() + "\n", streamed.out(), "the deltas, then the rest of the final message and a newline");

      Run json = sg("send", "again", "--url", url, "--channel", "c2", "--wait", "30", "--json");
      assertEquals(0, json.status(), json.err());
      List<JsonNode> lines = new ArrayList<>();
      for (String line : json.out().split("\n")) {
        lines.add(JSON.readTree(line));
      }
      JsonNode last = lines.get(lines.size() - 1);
      assertEquals("message", last.get("type").asText());
      assertEquals(expected.toString(), last.get("content").asText());
      StringBuilder joined = new StringBuilder();
      int deltas = 0;
      for (JsonNode n : lines.subList(0, lines.size() - 1)) {
        assertEquals("delta", n.get("type").asText(), n.toString());
        assertEquals(deltas++, n.get("seq").asInt());
        joined.append(n.get("content").asText());
      }
      assertTrue(deltas >= 2, "streamed in several deltas: " + deltas);
      assertEquals(expected.toString(), joined.toString(), "the final message is the deltas concatenated");

      Run whole = sg("send", "once more", "--url", url, "--channel", "c3", "--wait", "30", "--no-stream");
      assertEquals(0, whole.status(), whole.err());
      assertEquals(expected.toString().trim(), whole.out().trim());
    }
  }

  @Test
  void anErrorReplyEndsSendWithStatusSixAndItsCode() throws Exception {
    try (Pipeline p = standalone("stream-down", "/down")) {
      String url = "http://127.0.0.1:" + p.gateway().port();
      Run streamed = sg("send", "hello", "--url", url, "--wait", "30");
      assertEquals(6, streamed.status(), streamed.out() + streamed.err());
      assertTrue(streamed.err().contains("upstream_"), streamed.err());
      assertTrue(!streamed.err().contains("secret stack"), "the model API's body never reaches the client: " + streamed.err());

      Run whole = sg("send", "hello", "--url", url, "--wait", "30", "--no-stream");
      assertEquals(6, whole.status(), whole.out() + whole.err());
      assertTrue(whole.err().contains("upstream_"), whole.err());
    }
  }

  @Test
  void sendUsesTheKeyOfATenantPrefixedEntryAndStreamsTheTenantsOwnAnswer() throws Exception {
    try (Pipeline p = standalone("stream-keys", "", "SG_API_KEYS", "acme:key-acme,globex:key-globex")) {
      String url = "http://127.0.0.1:" + p.gateway().port();
      Run acme = sg(Map.of("SG_API_KEYS", "acme:key-acme,globex:key-globex"), "send", "hi", "--url", url, "--wait", "30");
      assertEquals(0, acme.status(), acme.err());
      assertTrue(acme.out().startsWith("w0 w1 "), acme.out());
      Run wrong = sg("send", "hi", "--url", url, "--wait", "30", "--api-key", "acme:key-acme");
      assertEquals(4, wrong.status(), "the entry itself is not a key: " + wrong.err());
    }
  }
}
