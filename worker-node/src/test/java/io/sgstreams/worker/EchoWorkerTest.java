package io.sgstreams.worker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.netty.http.client.HttpClient;

/** The echo handler and its /tool command form, against a real Redis and a fake tools node. */
class EchoWorkerTest {
  static final Duration WITHIN = Duration.ofSeconds(10);
  static SgConfig config;
  static RedisEventBus bus;
  static FakeTools tools;
  static WorkerNode node;
  static PrometheusMeterRegistry registry;

  @BeforeAll
  static void start() {
    String url = TestRedis.url();
    config = TestRedis.config("echo-1");
    bus = TestRedis.bus(url, Role.WORKER, config);
    tools = new FakeTools(url, config);
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    node = WorkerNode.start(bus, Rig.workerConfig(Map.of(
        "SG_WORKER_ADMIN_PORT", "0", "SG_TOOL_CALL_TIMEOUT_MS", "500")), registry);
  }

  @AfterAll
  static void stop() {
    node.shutdown().block(WITHIN);
    tools.close();
    bus.close();
  }

  static InboundEnvelope send(String channel, String content) {
    InboundEnvelope in = InboundEnvelope.create("web", channel, "user-1", content).withCorrelationId("corr-" + channel);
    bus.publishInbound(in).block(WITHIN);
    return in;
  }

  @Test
  void echoRepliesAsTheWireContractSays() {
    InboundEnvelope in = send("c-echo", "hello there");
    OutboundEnvelope out = Outbound.awaitReply(bus, "web", in.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_MESSAGE, out.type());
    assertEquals("hello there", out.content());
    assertEquals(in.id(), out.inReplyTo());
    assertEquals("corr-c-echo", out.correlationId());
    assertEquals("c-echo", out.channelId());
    assertEquals("web", out.platform());
    await().atMost(WITHIN).until(() -> Streams.pending(bus, config.topology().inboundStream(), config.topology().workerGroup()) == 0);
  }

  @Test
  void toolCommandCallsTheToolAndRepliesWithItsResult() {
    InboundEnvelope in = send("c-calc", "/tool calc {\"expr\":\"2*21\"}");
    OutboundEnvelope out = Outbound.awaitReply(bus, "web", in.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_MESSAGE, out.type());
    assertEquals("42", out.content());
    assertTrue(tools.requests.stream().anyMatch(r -> r.tool().equals("calc")
        && r.replyTo().equals(node.tools().replyStream()) && "c-calc".equals(r.channelId()) && r.deadline() != null));
  }

  @Test
  void toolErrorBecomesAnErrorReply() {
    InboundEnvelope in = send("c-fail", "/tool fail {}");
    OutboundEnvelope out = Outbound.awaitReply(bus, "web", in.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
    assertEquals("tool_error: it failed on purpose", out.content());

    InboundEnvelope unknown = send("c-unknown", "/tool nosuchtool");
    OutboundEnvelope out2 = Outbound.awaitReply(bus, "web", unknown.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_ERROR, out2.type());
    assertTrue(out2.content().startsWith("unknown_tool:"), out2.content());
  }

  @Test
  void badJsonArgumentsAreExplainedInAnErrorReply() {
    InboundEnvelope in = send("c-badjson", "/tool calc {expr: 2*21");
    OutboundEnvelope out = Outbound.awaitReply(bus, "web", in.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
    assertTrue(out.content().startsWith("bad_arguments: arguments are not valid JSON"), out.content());

    InboundEnvelope notObject = send("c-badjson2", "/tool calc [1,2]");
    OutboundEnvelope out2 = Outbound.awaitReply(bus, "web", notObject.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_ERROR, out2.type());
    assertTrue(out2.content().contains("must be a JSON object"), out2.content());
  }

  @Test
  void aToolThatAnswersTooLateGivesATimeoutReplyAndItsLateReplyIsCountedAndDiscarded() {
    double lateBefore = registry.get(WorkerMetrics.LATE_REPLIES).counter().count();
    InboundEnvelope in = send("c-slow", "/tool slow {\"ms\":1500}");
    OutboundEnvelope out = Outbound.awaitReply(bus, "web", in.id(), WITHIN);
    assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
    assertTrue(out.content().startsWith("tool_timeout: no reply within 500 ms"), out.content());
    assertEquals(0, node.tools().pendingCalls());

    await().atMost(WITHIN).until(() -> registry.get(WorkerMetrics.LATE_REPLIES).counter().count() == lateBefore + 1);
    // the late reply was acknowledged, and produced no second outbound reply
    await().atMost(WITHIN).until(() -> Streams.pending(bus, node.tools().replyStream(), config.topology().workerGroup()) == 0);
    assertEquals(1, Outbound.all(bus, "web").stream().filter(o -> o.inReplyTo().equals(in.id())).count());
    assertTrue(registry.get(WorkerMetrics.TOOL_CALLS).tag("tool", "slow").tag("outcome", "timeout").counter().count() >= 1);
  }

  @Test
  void replyStreamExpiresWhenTheWorkerIsGone() {
    Long ttl = bus.connections().commands().pttl(node.tools().replyStream()).block(WITHIN);
    assertTrue(ttl != null && ttl > 0 && ttl <= 600_000, "pttl " + ttl);
  }

  @Test
  void adminServerAnswersHealthReadyAndMetrics() {
    HttpClient http = HttpClient.create().baseUrl("http://127.0.0.1:" + node.adminPort());
    var health = http.get().uri("/health").responseSingle((r, b) -> b.asString().map(s -> r.status().code() + " " + s)).block(WITHIN);
    assertEquals("200 {\"status\":\"ok\"}", health);
    var ready = http.get().uri("/ready").responseSingle((r, b) -> b.asString().map(s -> r.status().code() + " " + s)).block(WITHIN);
    assertEquals("200 {\"status\":\"ready\",\"checks\":{\"redis\":true,\"consumer\":true}}", ready);
    var metrics = http.get().uri("/metrics").responseSingle((r, b) -> b.asString()).block(WITHIN);
    assertTrue(metrics.contains("sg_tool_replies_late_total"), metrics);
  }
}
