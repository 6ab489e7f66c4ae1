package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.core.trace.TraceParent;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A W3C trace through the whole pipeline: a POST with a {@code traceparent} whose answer needs a
 * tool call. The gateway, the worker and the tools node each add a span of the same trace: the tool
 * request and the tool reply on the streams and the final reply all carry the caller's trace id,
 * each hop with a parent id of its own.
 */
class TraceFlowTest {
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String CALLER_SPAN = "00f067aa0ba902b7";

  @Test
  void theCallersTraceIdIsOnTheToolCallTheToolReplyAndTheAnswer() throws Exception {
    SgConfig test = TestRedis.config("trace");
    SgConfig config = ConfigLoader.load(null, Map.of("SG_NODE_ID", "trace", "SG_HTTP_PORT", "0", "SG_WORKER_ADMIN_PORT",
            "-1", "SG_JOURNAL", "off"))
        .withTopology(test.topology()).withConsumer(test.consumer()).withRedisUrl(TestRedis.url());
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8))) {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + p.gateway().port() + "/v1/messages?wait=10"))
          .header("Content-Type", "application/json")
          .header("traceparent", "00-" + TRACE + "-" + CALLER_SPAN + "-01")
          .POST(HttpRequest.BodyPublishers.ofString(
              "{\"channel_id\":\"t1\",\"user_id\":\"u\",\"content\":\"/tool calc {\\\"expr\\\":\\\"6*7\\\"}\"}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      JsonNode reply = Json.readTree(r.body());
      assertEquals("42", reply.get("content").asText(), r.body());
      TraceParent answered = TraceParent.parse(r.headers().firstValue("traceparent").orElseThrow());
      assertEquals(TRACE, answered.traceId());
      assertNotEquals(CALLER_SPAN, answered.parentId(), "the gateway's own span");
      TraceParent inReply = TraceParent.parse(reply.get("traceparent").asText());
      assertEquals(TRACE, inReply.traceId(), "the answer carries the trace: " + r.body());

      try (RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config)) {
        List<Envelope> calls = decoded(bus, config.topology().toolsStream());
        assertEquals(1, calls.size(), "one tool call");
        ToolRequest call = (ToolRequest) calls.get(0);
        TraceParent callSpan = TraceParent.from(call.headers());
        assertNotNull(callSpan, "the tool request carries a traceparent: " + call.headers());
        assertEquals(TRACE, callSpan.traceId());
        String replyStream = config.topology().toolsReplyStream(bus.consumerName(Role.WORKER));
        List<Envelope> replies = decoded(bus, replyStream);
        assertEquals(1, replies.size(), "one tool reply on " + replyStream);
        TraceParent replySpan = TraceParent.from(((ToolReply) replies.get(0)).headers());
        assertEquals(TRACE, replySpan.traceId());
        List<String> spans = new ArrayList<>(List.of(CALLER_SPAN, answered.parentId(), callSpan.parentId(), replySpan.parentId()));
        assertEquals(spans.size(), spans.stream().distinct().count(), "each hop its own span: " + spans);
      }
    }
  }

  private static List<Envelope> decoded(RedisEventBus bus, String stream) {
    List<Envelope> out = new ArrayList<>();
    for (StreamEntry e : bus.range(stream, "0-0", 100).block(Duration.ofSeconds(10))) {
      out.add(bus.codec().decode(e.fields().get("data")));
    }
    return out;
  }
}
