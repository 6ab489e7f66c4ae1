package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.testing.Streams;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Limits that hold under abuse, over real HTTP: slow clients are cut by the idle and request
 * timeouts, a tenant's SSE + WebSocket connections are capped, every WebSocket frame is rate
 * limited, resumes have a scan budget, cross-origin WebSocket upgrades and non-JSON POSTs are refused.
 */
class AbuseLimitsTest {
  private static final String WS_KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  /** Whether the server closed the connection: EOF or a reset within {@code ms}. */
  private static boolean closedWithin(RawHttp c, int ms) throws IOException {
    c.socket.setSoTimeout(ms);
    try {
      InputStream in = c.socket.getInputStream();
      int b;
      while ((b = in.read()) >= 0) {
        // a response to a half-sent request would be a bug of its own; keep reading to the close
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (SocketException e) {
      return true;
    }
  }

  @Test
  void aSlowHeaderClientIsClosedAfterTheIdleTimeout() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_HTTP_IDLE_TIMEOUT_MS", "2000");
    String head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + "a".repeat(200);
    int sent = 0;
    boolean closed = false;
    try (RawHttp c = new RawHttp(gw.port())) {
      // a header byte a second, never finishing the request; up to 40 s
      while (!closed && sent < 40) {
        try {
          c.send(head.substring(sent, sent + 1));
        } catch (IOException e) {
          closed = true;
          break;
        }
        sent++;
        closed = closedWithin(c, 1000);
      }
    }
    assertTrue(closed, "a slowloris connection still open after " + sent + " header bytes, one a second");
    // cut while it kept trickling: the bytes it sent within the idle timeout did not count as a request
    assertTrue(sent >= 2, "cut while still sending header bytes (" + sent + ")");
    assertEquals(200, fx.get(gw, "/health", Map.of()).statusCode(), "other clients are served");
  }

  @Test
  void openStreamsOutliveTheIdleTimeout() throws Exception {
    // no heartbeat within the test: an idle timeout that applied to open streams would cut them
    GatewayNode gw = fx.gateway("gw-a", "SG_HTTP_IDLE_TIMEOUT_MS", "300", "SG_SSE_HEARTBEAT_MS", "60000");
    WebSocketTest.Client c = new WebSocketTest.Client();
    WebSocket ws = fx.http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), c).join();
    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/quiet/events", Map.of())) {
      await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5)).until(() -> !sse.ended && !c.closed);
      fx.reply("quiet", "still here");
      await().atMost(Duration.ofSeconds(10)).until(() -> sse.named("message").size() == 1);
      ws.sendText("{\"type\":\"ping\"}", true).join();
      await().atMost(Duration.ofSeconds(10)).until(() -> c.of("pong").size() == 1);
    }
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
  }

  @Test
  void aSlowBodyIsCutAfterTheRequestTimeout() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_HTTP_REQUEST_TIMEOUT_MS", "2000", "SG_HTTP_READ_TIMEOUT_MS", "1500");
    String body = message("slow", "x".repeat(100));
    int sent = 0;
    boolean closed = false;
    try (RawHttp c = new RawHttp(gw.port())) {
      c.send("POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
          + body.length() + "\r\n\r\n");
      while (!closed && sent < 40) {
        try {
          c.send(body.substring(sent, sent + 1));
        } catch (IOException e) {
          closed = true;
          break;
        }
        sent++;
        closed = closedWithin(c, 1000);
      }
    }
    assertTrue(closed, "a slow body still being read after " + sent + " bytes, one a second");
    assertTrue(sent >= 2, "cut while still trickling (" + sent + " bytes)");
    assertEquals(0, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void aPostThatIsNotJsonIsRefusedWith415() throws Exception {
    GatewayNode gw = fx.gateway();
    for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""}) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/messages"))
          .POST(HttpRequest.BodyPublishers.ofString(message("c", "csrf")));
      if (!type.isEmpty()) {
        b.header("Content-Type", type);
      }
      HttpResponse<String> r = fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(415, r.statusCode(), "Content-Type '" + type + "': " + r.body());
      assertEquals("unsupported_media_type", json(r).get("error").get("code").asText());
    }
    assertEquals(0, Streams.length(fx.probe, fx.inbound()), "a cross-site form post publishes nothing");
    HttpResponse<String> ok = fx.post(gw, "/v1/messages", message("c", "json"), Map.of("Content-Type", "application/json; charset=utf-8"));
    assertEquals(202, ok.statusCode(), ok.body());
  }

  private static String upgrade(int port, String extraHeaders) {
    return "GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: " + WS_KEY + "\r\nSec-WebSocket-Version: 13\r\n" + extraHeaders + "\r\n";
  }

  /** The status code of the answer to a raw WebSocket upgrade. */
  private static int upgradeStatus(int port, String extraHeaders) throws IOException {
    try (RawHttp c = new RawHttp(port)) {
      c.send(upgrade(port, extraHeaders));
      String head = c.readHead(10_000);
      return Integer.parseInt(head.split(" ")[1]);
    }
  }

  @Test
  void aCrossOriginWebSocketUpgradeIsRefused() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_ALLOWED_ORIGINS", "https://app.example");
    assertEquals(403, upgradeStatus(gw.port(), "Origin: https://evil.example\r\n"), "a page of another site");
    assertEquals(403, upgradeStatus(gw.port(), "Origin: null\r\n"), "an opaque origin");
    assertEquals(403, upgradeStatus(gw.port(), "Origin: https://app.example.evil.example\r\n"));
    try (RawHttp c = new RawHttp(gw.port())) {
      c.send(upgrade(gw.port(), "Origin: https://evil.example\r\n"));
      String all = c.readResponse(10_000);
      assertTrue(all.contains("origin_not_allowed"), all);
    }
    assertEquals(101, upgradeStatus(gw.port(), "Origin: https://app.example\r\n"), "an allowed origin");
    assertEquals(101, upgradeStatus(gw.port(), ""), "no Origin: not a browser");
    assertEquals(101, upgradeStatus(gw.port(), "Origin: http://127.0.0.1:" + gw.port() + "\r\n"), "same origin");

    GatewayNode strict = fx.gateway("gw-b");
    assertEquals(403, upgradeStatus(strict.port(), "Origin: https://app.example\r\n"), "by default no cross origin");
    assertEquals(101, upgradeStatus(strict.port(), ""));
  }

  @Test
  void aTenantsStreamsAreCappedAndFreedWhenTheyClose() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", "acme:key-acme,globex:key-globex", "SG_MAX_STREAMS_PER_TENANT", "2");
    Map<String, String> acme = Map.of("X-API-Key", "key-acme");
    SseClient a1 = new SseClient(fx.http, gw.port(), "/v1/channels/one/events", acme);
    WebSocketTest.Client wsClient = new WebSocketTest.Client();
    WebSocket a2 = fx.http.newWebSocketBuilder().header("X-API-Key", "key-acme")
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), wsClient).join();
    assertEquals(200, a1.status);
    try (SseClient a3 = new SseClient(fx.http, gw.port(), "/v1/channels/two/events", acme)) {
      assertEquals(429, a3.status, "a third SSE stream of the tenant");
    }
    assertEquals(429, upgradeStatus(gw.port(), "X-API-Key: key-acme\r\n"), "a third stream as a WebSocket");
    try (SseClient g = new SseClient(fx.http, gw.port(), "/v1/channels/one/events", Map.of("X-API-Key", "key-globex"))) {
      assertEquals(200, g.status, "another tenant has its own cap");
    }
    HttpResponse<String> body = fx.get(gw, "/v1/channels/three/events", acme);
    assertEquals(429, body.statusCode());
    assertEquals("too_many_streams", json(body).get("error").get("code").asText());

    a1.close();
    a2.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    List<SseClient> again = new ArrayList<>();
    await("the closed streams' slots are free again").atMost(Duration.ofSeconds(10)).until(() -> {
      SseClient s = new SseClient(fx.http, gw.port(), "/v1/channels/one/events", acme);
      if (s.status == 200) {
        again.add(s);
      } else {
        s.close();
      }
      return again.size() == 2;
    });
    for (SseClient s : again) {
      s.close();
    }
  }

  @Test
  void everyWebSocketFrameCountsAgainstTheRateLimit() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_RATE_LIMIT_PER_MINUTE", "5");
    WebSocketTest.Client c = new WebSocketTest.Client();
    WebSocket ws = fx.http.newWebSocketBuilder()
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), c).join(); // the upgrade: 1
    for (int i = 0; i < 20; i++) {
      String frame = switch (i % 3) {
        case 0 -> "{\"type\":\"ping\"}";
        case 1 -> "{\"type\":\"subscribe\",\"channel_id\":\"rl-" + i + "\"}";
        default -> "{\"type\":\"unsubscribe\",\"channel_id\":\"rl-" + (i - 1) + "\"}";
      };
      ws.sendText(frame, true).join();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> c.frames.size() == 20);
    List<JsonNode> errors = c.of("error");
    // 4 frames fit with the upgrade in one window (at most 9 if a minute boundary passed meanwhile)
    assertTrue(errors.size() >= 11, "rate-limited frames: " + c.frames);
    assertTrue(errors.stream().allMatch(e -> e.path("error").path("code").asText().equals("rate_limited")
        && e.path("status").asInt() == 429), errors.toString());
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
  }

  @Test
  void resumesHaveAScanBudgetPerCaller() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_RESUME_SCAN_PER_MINUTE", "350");
    String from = fx.reply("mine", "before");
    for (int i = 0; i < 250; i++) {
      fx.reply("other", "noise " + i);
    }
    fx.reply("mine", "missed");
    int replayed = 0;
    int budgetResets = 0;
    // each resume scans ~251 entries; at most one fits a 350-entry window (two if a minute boundary passes)
    for (int i = 0; i < 3; i++) {
      try (SseClient s = new SseClient(fx.http, gw.port(), "/v1/channels/mine/events", Map.of("Last-Event-ID", from))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !s.named("message").isEmpty() || !s.named("reset").isEmpty());
        if (!s.named("message").isEmpty()) {
          assertTrue(s.named("message").get(0).data().contains("missed"), s.events.toString());
          replayed++;
        } else {
          assertTrue(s.named("reset").get(0).data().contains("budget"), s.events.toString());
          budgetResets++;
        }
      }
    }
    assertTrue(replayed >= 1, "the first resume is served");
    assertTrue(budgetResets >= 1, "a caller past its scan budget gets a reset instead of another scan");
  }
}
