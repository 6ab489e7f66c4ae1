package io.sgstreams.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.gateway.http.Json;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WebSocketTest {
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  /** Collects text frames as JSON; counts pings. */
  static final class Client implements WebSocket.Listener {
    final List<JsonNode> frames = new CopyOnWriteArrayList<>();
    final List<String> pings = new CopyOnWriteArrayList<>();
    /** The server closed the socket (or it failed). */
    volatile boolean closed;
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      closed = true;
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed = true;
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        try {
          frames.add(Json.readTree(partial.toString()));
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket ws, ByteBuffer message) {
      pings.add("ping");
      return WebSocket.Listener.super.onPing(ws, message);
    }

    List<JsonNode> of(String type) {
      return frames.stream().filter(f -> f.path("type").asText().equals(type)).toList();
    }
  }

  private WebSocket open(GatewayNode gw, Client c) throws Exception {
    return fx.http.newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), c)
        .get(10, TimeUnit.SECONDS);
  }

  @Test
  void subscribeSendReceiveAndResume() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_SSE_HEARTBEAT_MS", "300");
    fx.echoWorker("w1");
    Client c = new Client();
    WebSocket ws = open(gw, c);
    ws.sendText("{\"type\":\"subscribe\",\"channel_id\":\"ws1\"}", true).get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> c.of("subscribed").size() == 1);
    ws.sendText("{\"type\":\"message\",\"channel_id\":\"ws1\",\"user_id\":\"u\",\"content\":\"over ws\"}", true)
        .get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> c.of("reply").size() == 1);
    JsonNode ack = c.of("ack").get(0);
    JsonNode reply = c.of("reply").get(0);
    assertEquals("over ws", reply.get("content").asText());
    assertEquals(ack.get("id").asText(), reply.get("in_reply_to").asText());

    ws.sendText("{\"type\":\"bogus\"}", true).get(5, TimeUnit.SECONDS);
    ws.sendText("{\"type\":\"message\",\"channel_id\":\"ws1\"}", true).get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> c.of("error").size() == 2);
    assertEquals("unknown_type", c.of("error").get(0).get("error").get("code").asText());
    assertEquals("missing_field", c.of("error").get(1).get("error").get("code").asText());
    await().atMost(Duration.ofSeconds(10)).until(() -> !c.pings.isEmpty());
    String last = reply.get("stream_id").asText();
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);

    fx.reply("ws1", "missed");
    Client c2 = new Client();
    WebSocket ws2 = open(gw, c2);
    ws2.sendText("{\"type\":\"subscribe\",\"channel_id\":\"ws1\",\"last_event_id\":\"" + last + "\"}", true).get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(10)).until(() -> c2.of("reply").size() == 1);
    assertEquals("missed", c2.of("reply").get(0).get("content").asText());
    ws2.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
  }
}
