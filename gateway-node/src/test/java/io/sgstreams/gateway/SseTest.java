package io.sgstreams.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.gateway.http.Json;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SseTest {
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void receivesRepliesOfItsChannelOnlyAndResumesWithLastEventId() throws Exception {
    GatewayNode gw = fx.gateway("gw-a");
    List<String> firstContents;
    String lastSeen;
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/room1/events", Map.of())) {
      assertEquals(200, sse.status);
      fx.reply("room1", "one");
      fx.reply("other-room", "not for us");
      fx.reply("room1", "two");
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.named("message").size() == 2);
      firstContents = contents(sse.named("message"));
      lastSeen = sse.named("message").get(1).id();
    }
    assertEquals(List.of("one", "two"), firstContents);

    // while disconnected
    fx.reply("room1", "three");
    fx.reply("other-room", "still not for us");
    fx.reply("room1", "four");

    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/room1/events", Map.of("Last-Event-ID", lastSeen))) {
      fx.reply("room1", "five");
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.named("message").size() >= 3);
      // a later marker reply: anything duplicated before it would have arrived by now
      fx.reply("room1", "six");
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.named("message").size() >= 4);
      assertEquals(List.of("three", "four", "five", "six"), contents(sse.named("message")));
      List<String> ids = sse.named("message").stream().map(SseClient.Event::id).toList();
      assertEquals(ids.stream().distinct().count(), ids.size());
    }
  }

  @Test
  void resetForAnIdOlderThanTheStreamAndHeartbeats() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_SSE_HEARTBEAT_MS", "200");
    fx.reply("room2", "old");
    String tooOld = "1-0";
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/room2/events", Map.of("Last-Event-ID", tooOld))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !sse.named("reset").isEmpty());
      assertTrue(sse.named("reset").get(0).data().contains("older"));
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.comments.stream().anyMatch(c -> c.contains("heartbeat")));
    }
    try (SseClient bad = new SseClient(fx.http, gw.port(), "/v1/channels/room2/events", Map.of("Last-Event-ID", "yesterday"))) {
      assertEquals(400, bad.status);
    }
  }

  private static List<String> contents(List<SseClient.Event> events) {
    return events.stream().map(e -> {
      try {
        JsonNode n = Json.readTree(e.data());
        assertEquals(e.id(), n.get("stream_id").asText());
        return n.get("content").asText();
      } catch (Exception x) {
        throw new AssertionError(x);
      }
    }).toList();
  }

  @Test
  void shutdownEndsOpenStreamsAndCompletes() throws Exception {
    GatewayNode gw = fx.gateway("gw-z");
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/room3/events", Map.of())) {
      long t0 = System.nanoTime();
      gw.shutdown().block(Duration.ofSeconds(60));
      System.out.printf("SseTest: gateway shutdown with an open SSE stream took %d ms (reported, not asserted)%n",
          (System.nanoTime() - t0) / 1_000_000);
      await().atMost(Duration.ofSeconds(30)).until(() -> sse.ended);
      // ended by the gateway (the response completed), not cut when the HTTP server's 10 s drain ran out
      assertNull(sse.failure, () -> "the SSE stream was cut, not ended: " + sse.failure);
    }
  }

  @Test
  void subscriberOnOneNodeGetsTheReplyToAPostOnAnother() throws Exception {
    GatewayNode a = fx.gateway("gw-a");
    GatewayNode b = fx.gateway("gw-b");
    fx.echoWorker("w1");
    try (SseClient onB = new SseClient(fx.http, b.port(), "/v1/channels/shared/events", Map.of())) {
      assertEquals(202, fx.post(a, "/v1/messages", GatewayFixture.message("shared", "via a")).statusCode());
      await().atMost(Duration.ofSeconds(10)).until(() -> onB.named("message").size() == 1);
      assertEquals(List.of("via a"), contents(onB.named("message")));
    }
  }
}
