package io.sgstreams.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/** End to end over a real Redis: requests onto the tools stream, replies read back from reply streams. */
class ToolsNodeTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final AtomicInteger workers = new AtomicInteger();

  private static SgConfig config;
  private static Topology t;
  private static RedisEventBus toolsBus;
  private static RedisEventBus workerBus;
  private static ToolsNode node;

  @BeforeAll
  static void start() {
    config = TestRedis.config("tools-e2e");
    t = config.topology();
    toolsBus = TestRedis.bus(TestRedis.url(), Role.TOOLS, config);
    workerBus = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
    ToolsConfig settings = ToolsConfigTest.tools(Map.of("SG_TOOLS_ADMIN_PORT", "0", "SG_TOOL_TIMEOUT_MS", "2000"));
    node = ToolsNode.start(toolsBus, settings, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  @AfterAll
  static void stop() {
    node.shutdown().block(WAIT);
    assertFalse(node.running());
    toolsBus.close();
    workerBus.close();
  }

  // ------------------------------------------------------------------ replies

  @Test
  void calcAnswers42AsAnInteger() {
    ToolReply reply = call(request("calc", Map.of("expr", "2*21")));
    assertTrue(reply.ok(), reply::toString);
    assertEquals(42L, reply.result());
    assertNull(reply.error());
  }

  @Test
  void correlationIdAndContextArePreserved() {
    ToolRequest req = request("echo", Map.of("x", "y", "n", 3L))
        .withCorrelationId("conv-123").withContext("web", "chan-9");
    ToolReply reply = call(req);
    assertTrue(reply.ok());
    assertEquals("conv-123", reply.correlationId());
    assertEquals("web", reply.platform());
    assertEquals("chan-9", reply.channelId());
    assertEquals(Map.of("x", "y", "n", 3L), reply.result());
  }

  @Test
  void clockAnswersWithTheTime() {
    long before = System.currentTimeMillis();
    ToolReply reply = call(request("clock", Map.of("zone", "Europe/Paris")));
    Map<?, ?> r = (Map<?, ?>) reply.result();
    assertTrue((Long) r.get("epoch_ms") >= before);
    assertTrue(((String) r.get("iso")).endsWith("Z"));
    assertNotNull(r.get("local"));
  }

  @Test
  void unknownToolListsTheKnownOnes() {
    ToolReply reply = call(request("teleport", Map.of()));
    assertFailure(reply, "unknown_tool", "'teleport'");
    assertTrue(reply.error().message().contains("calc, clock, echo"), reply.error().message());
  }

  @Test
  void badArgumentsAreReplied() {
    assertFailure(call(request("calc", Map.of())), "bad_arguments", "missing required argument 'expr'");
    assertFailure(call(request("calc", Map.of("expr", "1/0"))), "bad_arguments", "division by zero at position 2");
    assertFailure(call(request("clock", Map.of("zone", "Nowhere/Land"))), "bad_arguments", "Nowhere/Land");
    // checked against the tool's schema before the tool runs
    assertFailure(call(request("calc", Map.of("expr", 42L))), "bad_arguments", "argument 'expr' must be a string, got number");
    assertFailure(call(request("reverse", Map.of("text", List.of()))), "bad_arguments", "argument 'text' must be a string");
  }

  @Test
  void listToolsGivesTheCatalog() {
    ToolReply reply = call(request("list_tools", Map.of()));
    assertTrue(reply.ok(), reply::toString);
    List<?> catalog = (List<?>) reply.result();
    List<String> names = catalog.stream().map(m -> (String) ((Map<?, ?>) m).get("name")).toList();
    assertEquals(List.of("boom", "calc", "clock", "echo", "reverse", "slow"), names);
    Map<?, ?> calc = (Map<?, ?>) catalog.get(1);
    assertEquals(List.of("expr"), ((Map<?, ?>) calc.get("parameters")).get("required"));
  }

  @Test
  void aReplyStreamWithoutExpiryGetsOneAndALiveWorkersExpiryIsKept() {
    ToolRequest orphan = request("echo", Map.of());
    call(orphan);
    long ttl = workerBus.connections().commands().pttl(orphan.replyTo()).block(WAIT);
    assertTrue(ttl > 0 && ttl <= Duration.ofMinutes(10).toMillis(), "ttl " + ttl);

    ToolRequest live = request("echo", Map.of());
    // the worker created its stream and set its own, longer expiry
    workerBus.ensureGroup(live.replyTo(), "worker-group").block(WAIT);
    workerBus.connections().commands().pexpire(live.replyTo(), Duration.ofHours(1).toMillis()).block(WAIT);
    call(live);
    long kept = workerBus.connections().commands().pttl(live.replyTo()).block(WAIT);
    assertTrue(kept > Duration.ofMinutes(50).toMillis(), "ttl " + kept);
  }

  @Test
  void slowToolTimesOut() {
    // the tool never answers: a reply can only come from its own 200 ms timeout (not the node's 2 s)
    assertFailure(call(request("slow", Map.of())), "timeout", "200 ms");
  }

  @Test
  void deadlineShorterThanTheTimeoutCutsTheCall() {
    ToolRequest req = request("slow", Map.of()).withDeadline(System.currentTimeMillis() + 100);
    assertFailure(call(req), "deadline_exceeded", "while 'slow' was running");
  }

  @Test
  void exceptionInsideAToolIsAToolError() {
    ToolRequest req = request("boom", Map.of()).withCorrelationId("boom-corr");
    ToolReply reply = call(req);
    assertFailure(reply, "tool_error", "kaboom");
    assertEquals("boom-corr", reply.correlationId());
  }

  @Test
  void expiredDeadlineIsNotRun() {
    ToolRequest req = request("boom", Map.of()).withDeadline(System.currentTimeMillis() - 1000);
    // boom would answer tool_error: deadline_exceeded proves it did not run
    assertFailure(call(req), "deadline_exceeded", "deadline passed");
  }

  @Test
  void userToolFromServiceLoaderAnswers() {
    ToolReply reply = call(request("reverse", Map.of("text", "stressed")));
    assertTrue(reply.ok(), reply::toString);
    assertEquals("desserts", reply.result());
  }

  @Test
  void everyRequestGetsExactlyOneReplyWithItsCorrelationId() {
    String replyTo = replyStream();
    List<String> tools = List.of("calc", "echo", "teleport", "boom", "clock", "calc");
    for (int i = 0; i < tools.size(); i++) {
      Map<String, Object> args = tools.get(i).equals("calc") ? Map.of("expr", i + "+1") : Map.of();
      workerBus.publishToolsRequest(ToolRequest.create(tools.get(i), args, replyTo, null).withCorrelationId("c" + i))
          .block(WAIT);
    }
    await().atMost(WAIT).until(() -> Streams.length(workerBus, replyTo) >= tools.size());
    await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> Streams.length(workerBus, replyTo) == tools.size());
    List<String> correlations = replies(replyTo).stream().map(ToolReply::correlationId).sorted().toList();
    assertEquals(List.of("c0", "c1", "c2", "c3", "c4", "c5"), correlations);
    await().atMost(WAIT).until(() -> Streams.pending(workerBus, t.toolsStream(), t.toolsGroup()) == 0);
  }

  // ------------------------------------------------------------------ dead letters

  @Test
  void requestWithoutReplyToEndsInTheDlq() throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packMapHeader(7);
    p.packString("v").packInt(1);
    p.packString("id").packString("no-reply-to-1");
    p.packString("kind").packString("tool_request");
    p.packString("correlation_id").packString("no-reply-to-1");
    p.packString("enqueued_at").packLong(System.currentTimeMillis());
    p.packString("tool").packString("echo");
    p.packString("args").packMapHeader(0);
    byte[] data = p.toByteArray();
    String id = Streams.add(workerBus, t.toolsStream(), StreamFields.of(data, System.currentTimeMillis(), ""));
    Map<String, byte[]> dead = awaitDeadLetter(id);
    assertEquals(t.toolsStream(), string(dead, "original_stream"));
    assertEquals(List.of(data.length), List.of(dead.get("data").length));
  }

  @Test
  void anotherKindOfEnvelopeEndsInTheDlq() {
    String id = workerBus.publish(t.toolsStream(), InboundEnvelope.create("web", "c1", "u1", "hi")).block(WAIT);
    Map<String, byte[]> dead = awaitDeadLetter(id);
    assertTrue(string(dead, "error").contains("only tool_request"), string(dead, "error"));
    assertEquals("1", string(dead, "deliveries"), "dead-lettered at once");
  }

  @Test
  void replyToOutsideTheReplyStreamsEndsInTheDlq() {
    ToolRequest req = ToolRequest.create("echo", Map.of(), t.inboundStream(), null);
    String id = workerBus.publishToolsRequest(req).block(WAIT);
    Map<String, byte[]> dead = awaitDeadLetter(id);
    assertTrue(string(dead, "error").contains("not a tools reply stream"), string(dead, "error"));
    assertEquals(0, Streams.length(workerBus, t.inboundStream()), "nothing written to the inbound stream");
  }

  @Test
  void aReplyThatCannotBePublishedIsRetriedThenDeadLettered() {
    // The reply stream's key holds a string, so every XADD fails: an infrastructure failure.
    String replyTo = replyStream();
    workerBus.connections().commands().set(replyTo, "not a stream".getBytes(StandardCharsets.UTF_8)).block(WAIT);
    String id = workerBus.publishToolsRequest(ToolRequest.create("echo", Map.of(), replyTo, null)).block(WAIT);
    Map<String, byte[]> dead = awaitDeadLetter(id);
    assertEquals(String.valueOf(config.consumer().maxDeliveries()), string(dead, "deliveries"),
        "retried up to the delivery limit before dead-lettering");
    assertTrue(string(dead, "error").contains("WRONGTYPE"), string(dead, "error"));
  }

  // ------------------------------------------------------------------ admin

  @Test
  void adminEndpointsAnswer() throws Exception {
    call(request("calc", Map.of("expr", "1+1")));
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + node.adminPort();
    HttpResponse<String> health = get(http, base + "/health");
    assertEquals(200, health.statusCode());
    assertTrue(health.body().contains("\"ok\""), health.body());
    HttpResponse<String> ready = get(http, base + "/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    assertTrue(ready.body().contains("\"redis\":true") && ready.body().contains("\"consumer\":true"), ready.body());
    HttpResponse<String> metrics = get(http, base + "/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().lines().anyMatch(l -> l.startsWith("sg_tool_calls_total")
        && l.contains("tool=\"calc\"") && l.contains("outcome=\"ok\"")), "tool call counter exported");
    assertTrue(metrics.body().contains("sg_tool_duration_seconds"), "tool latency timer exported");
  }

  // ------------------------------------------------------------------ helpers

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(WAIT).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String replyStream() {
    return t.toolsReplyStream("worker" + workers.incrementAndGet());
  }

  private static ToolRequest request(String tool, Map<String, ?> args) {
    return ToolRequest.create(tool, args, replyStream(), null);
  }

  /** Publishes {@code req} and waits for the one reply on its reply stream. */
  private static ToolReply call(ToolRequest req) {
    workerBus.publishToolsRequest(req).block(WAIT);
    await().atMost(WAIT).until(() -> Streams.length(workerBus, req.replyTo()) >= 1);
    List<ToolReply> replies = replies(req.replyTo());
    assertEquals(1, replies.size());
    ToolReply reply = replies.get(0);
    assertEquals(req.correlationId(), reply.correlationId());
    return reply;
  }

  private static List<ToolReply> replies(String stream) {
    return Streams.all(workerBus, stream).stream()
        .map(m -> workerBus.codec().decode(m.getBody().get(StreamFields.DATA), ToolReply.class))
        .toList();
  }

  private static void assertFailure(ToolReply reply, String code, String messagePart) {
    assertFalse(reply.ok(), reply::toString);
    assertEquals(code, reply.error().code(), reply::toString);
    assertTrue(reply.error().message().contains(messagePart), reply.error().message());
  }

  private static Map<String, byte[]> awaitDeadLetter(String originalId) {
    await().atMost(WAIT).until(() -> deadLetter(originalId) != null);
    return deadLetter(originalId);
  }

  private static Map<String, byte[]> deadLetter(String originalId) {
    for (StreamMessage<String, byte[]> m : Streams.all(workerBus, t.dlqStream())) {
      if (originalId.equals(string(m.getBody(), "original_id"))) {
        return m.getBody();
      }
    }
    return null;
  }

  private static String string(Map<String, byte[]> fields, String name) {
    byte[] b = fields.get(name);
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
