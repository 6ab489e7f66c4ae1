package io.sgstreams.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Streamed answers through the gateway: {@code delta} replies reach SSE ({@code event: delta}) and
 * WebSocket ({@code delta} frames) in order, a waiting POST gets only the final message, a resume
 * replays the deltas it missed, and a newer attempt of an answer resets the older one's deltas.
 */
class StreamedRepliesTest {
  private static final Duration WITHIN = Duration.ofSeconds(15);
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void deltasReachSseAndWebSocketInOrderAndAWaitingPostGetsOnlyTheFinalMessage() throws Exception {
    GatewayNode gw = fx.gateway();
    fx.streamingWorker("w1");
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      text.append("word").append(i).append(' ');
    }
    String content = text.toString().trim();
    WebSocketTest.Client wsc = new WebSocketTest.Client();
    WebSocket ws = fx.http.newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), wsc).get(10, TimeUnit.SECONDS);
    ws.sendText("{\"type\":\"subscribe\",\"channel_id\":\"s1\"}", true).get(5, TimeUnit.SECONDS);
    await().atMost(WITHIN).until(() -> wsc.of("subscribed").size() == 1);
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/s1/events", Map.of())) {
      HttpResponse<String> r = fx.post(gw, "/v1/messages?wait=10", GatewayFixture.message("s1", content));
      assertEquals(200, r.statusCode(), r.body());
      JsonNode answer = GatewayFixture.json(r);
      assertEquals("message", answer.get("type").asText(), "the waiting POST is answered by the final message, not a delta");
      assertEquals(content, answer.get("content").asText());

      await().atMost(WITHIN).until(() -> sse.named("message").size() == 1 && wsc.of("reply").size() == 1);
      List<JsonNode> sseDeltas = data(sse.named("delta"));
      assertEquals(40, sseDeltas.size());
      assertDeltasInOrder(sseDeltas, content);
      // the final message comes after every delta
      assertEquals("message", sse.events.get(sse.events.size() - 1).event());
      assertEquals(content, GatewayFixture.json(sse.named("message").get(0).data()).get("content").asText());

      List<JsonNode> wsDeltas = wsc.of("delta");
      assertEquals(40, wsDeltas.size());
      assertDeltasInOrder(wsDeltas, content);
      JsonNode wsReply = wsc.of("reply").get(0);
      assertEquals("message", wsReply.get("reply_type").asText());
      assertTrue(wsc.frames.indexOf(wsReply) > wsc.frames.indexOf(wsDeltas.get(39)));
    } finally {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void anIdempotentRetryOfAStreamedAnswerGetsTheFinalMessageNotADelta() throws Exception {
    GatewayNode gw = fx.gateway();
    fx.streamingWorker("w1");
    String body = GatewayFixture.message("s4", "one two three four");
    Map<String, String> key = Map.of("Idempotency-Key", "stream-retry-1");
    HttpResponse<String> first = fx.post(gw, "/v1/messages?wait=10", body, key);
    assertEquals(200, first.statusCode(), first.body());
    assertEquals("message", GatewayFixture.json(first).get("type").asText());
    // a second gateway node has seen the deltas and the answer only on the stream
    GatewayNode other = fx.gateway("gw-b");
    for (GatewayNode n : List.of(gw, other)) {
      HttpResponse<String> retry = fx.post(n, "/v1/messages?wait=10", body, key);
      assertEquals(200, retry.statusCode(), retry.body());
      JsonNode r = GatewayFixture.json(retry);
      assertEquals("message", r.get("type").asText(), retry.body());
      assertEquals("one two three four", r.get("content").asText());
      assertEquals(GatewayFixture.json(first).get("in_reply_to").asText(), r.get("in_reply_to").asText());
    }
  }

  @Test
  void aResumeAfterADisconnectReplaysTheMissedDeltasWithoutGaps() throws Exception {
    GatewayNode gw = fx.gateway();
    InboundEnvelope in = InboundEnvelope.create("web", "s2", "u", "q");
    StringBuilder whole = new StringBuilder();
    List<JsonNode> seen = new ArrayList<>();
    String last;
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/s2/events", Map.of())) {
      for (int i = 0; i < 5; i++) {
        whole.append("p").append(i).append(' ');
        fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, i, "p" + i + " ")).block();
      }
      await().atMost(WITHIN).until(() -> sse.named("delta").size() == 5);
      seen.addAll(data(sse.named("delta")));
      last = sse.named("delta").get(4).id();
    }
    // the rest of the answer streams while the client is away
    for (int i = 5; i < 10; i++) {
      whole.append("p").append(i).append(' ');
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, i, "p" + i + " ")).block();
    }
    fx.probe.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", whole.toString())).block();
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/s2/events", Map.of("Last-Event-ID", last))) {
      await().atMost(WITHIN).until(() -> sse.named("message").size() == 1);
      seen.addAll(data(sse.named("delta")));
      assertEquals(whole.toString(), GatewayFixture.json(sse.named("message").get(0).data()).get("content").asText());
    }
    assertDeltasInOrder(seen, whole.toString());
  }

  @Test
  void aNewerAttemptResetsTheOlderAttemptsDeltasAndTheFinalMessageWins() throws Exception {
    GatewayNode gw = fx.gateway();
    InboundEnvelope in = InboundEnvelope.create("web", "s3", "u", "q");
    WebSocketTest.Client wsc = new WebSocketTest.Client();
    WebSocket ws = fx.http.newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), wsc).get(10, TimeUnit.SECONDS);
    ws.sendText("{\"type\":\"subscribe\",\"channel_id\":\"s3\"}", true).get(5, TimeUnit.SECONDS);
    await().atMost(WITHIN).until(() -> wsc.of("subscribed").size() == 1);
    String firstId;
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/s3/events", Map.of())) {
      // attempt 1 streams, its worker is presumed dead, attempt 2 starts over; attempt 1 is in fact a zombie
      firstId = fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, 0, "old-0 ")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, 1, "old-1 ")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 2, 0, "new-0 ")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, 2, "old-2 ")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 2, 1, "new-1")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", "new-0 new-1")).block();
      // late: the zombie's delta and a duplicate of the final message
      fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, 3, "old-3")).block();
      fx.probe.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", "new-0 new-1")).block();
      fx.reply("s3", "marker");
      await().atMost(WITHIN).until(() -> sse.named("message").size() >= 2);
      assertEquals(List.of("delta:old-0 ", "delta:old-1 ", "reset:2", "delta:new-0 ", "delta:new-1", "message:new-0 new-1", "message:marker"),
          sseOutline(sse));
      await().atMost(WITHIN).until(() -> wsc.of("reply").size() >= 2);
      assertEquals(List.of("delta:old-0 ", "delta:old-1 ", "reset:2", "delta:new-0 ", "delta:new-1", "reply:new-0 new-1", "reply:marker"),
          wsOutline(wsc));
    } finally {
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    }
    // a resume from the first delta replays the same story, duplicates and zombie included in the stream
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/s3/events", Map.of("Last-Event-ID", firstId))) {
      await().atMost(WITHIN).until(() -> sse.named("message").size() >= 2);
      assertEquals(List.of("delta:old-1 ", "reset:2", "delta:new-0 ", "delta:new-1", "message:new-0 new-1", "message:marker"),
          sseOutline(sse));
    }
  }

  private static List<String> sseOutline(SseClient sse) throws Exception {
    List<String> out = new ArrayList<>();
    for (SseClient.Event e : sse.events) {
      JsonNode n = GatewayFixture.json(e.data());
      out.add(e.event() + ":" + (e.event().equals("reset") ? n.get("attempt").asText() : n.get("content").asText()));
    }
    return out;
  }

  private static List<String> wsOutline(WebSocketTest.Client c) {
    List<String> out = new ArrayList<>();
    for (JsonNode f : c.frames) {
      String type = f.get("type").asText();
      switch (type) {
        case "delta", "reply" -> out.add(type + ":" + f.get("content").asText());
        case "reset" -> out.add(type + ":" + f.get("attempt").asText());
        default -> { }
      }
    }
    return out;
  }

  private static List<JsonNode> data(List<SseClient.Event> events) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (SseClient.Event e : events) {
      out.add(GatewayFixture.json(e.data()));
    }
    return out;
  }

  /** seq 0, 1, 2, ... without gap or repeat, and the texts concatenate to {@code whole}. */
  private static void assertDeltasInOrder(List<JsonNode> deltas, String whole) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < deltas.size(); i++) {
      assertEquals(i, deltas.get(i).get("seq").asInt(), "seq of delta " + i);
      b.append(deltas.get(i).get("content").asText());
    }
    assertEquals(whole, b.toString());
  }
}
