package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tenants are namespaces: two tenants using the same channel id are two conversations. A key of
 * tenant A never receives, replays or posts into tenant B's conversation, on every route: POST
 * (with ?wait), SSE, SSE resume with Last-Event-ID, WebSocket, WebSocket resume. The tenant comes
 * from the key, never from the request body.
 */
class TenantIsolationTest {
  private static final String KEYS = "acme:key-acme,globex:key-globex,key-bare";
  private static final Map<String, String> ACME = Map.of("Authorization", "Bearer key-acme");
  private static final Map<String, String> GLOBEX = Map.of("Authorization", "Bearer key-globex");
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  private List<InboundEnvelope> inboundTenants() {
    List<InboundEnvelope> out = new CopyOnWriteArrayList<>();
    for (StreamMessage<String, byte[]> m : Streams.all(fx.probe, fx.inbound())) {
      out.add((InboundEnvelope) fx.probe.codec().decode(m.getBody().get("data")));
    }
    return out;
  }

  @Test
  void theTenantComesFromTheKeyNeverFromTheBody() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    String spoof = "{\"channel_id\":\"room\",\"user_id\":\"u\",\"content\":\"hi\",\"tenant_id\":\"globex\"}";
    HttpResponse<String> refused = fx.post(gw, "/v1/messages", spoof, ACME);
    assertEquals(400, refused.statusCode(), "a body naming a tenant is refused, not obeyed: " + refused.body());
    assertEquals(202, fx.post(gw, "/v1/messages", message("room", "acme"), ACME).statusCode());
    assertEquals(202, fx.post(gw, "/v1/messages", message("room", "bare"), Map.of("X-API-Key", "key-bare")).statusCode());
    List<InboundEnvelope> in = inboundTenants();
    assertEquals(List.of("acme", "default"), in.stream().map(InboundEnvelope::tenantId).toList(), "set from the key");
  }

  @Test
  void aWaitingPostGetsItsOwnTenantsReplyOnly() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    fx.echoWorker("w1");
    HttpResponse<String> a = fx.post(gw, "/v1/messages?wait=10", message("room", "from acme"), ACME);
    HttpResponse<String> g = fx.post(gw, "/v1/messages?wait=10", message("room", "from globex"), GLOBEX);
    assertEquals(200, a.statusCode());
    assertEquals(200, g.statusCode());
    assertEquals("from acme", json(a).get("content").asText());
    assertEquals("from globex", json(g).get("content").asText());
  }

  @Test
  void sseAndItsResumeDeliverOnlyTheCallersTenant() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    fx.echoWorker("w1");
    try (SseClient acme = new SseClient(fx.http, gw.port(), "/v1/channels/room/events", ACME);
         SseClient globex = new SseClient(fx.http, gw.port(), "/v1/channels/room/events", GLOBEX)) {
      for (int i = 0; i < 5; i++) {
        assertEquals(202, fx.post(gw, "/v1/messages", message("room", "acme-" + i), ACME).statusCode());
        assertEquals(202, fx.post(gw, "/v1/messages", message("room", "globex-" + i), GLOBEX).statusCode());
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> acme.events.size() == 5 && globex.events.size() == 5);
      Thread.sleep(300); // nothing else arrives
      assertEquals(5, acme.events.size());
      assertTrue(acme.events.stream().allMatch(e -> e.data().contains("\"acme-")), acme.events.toString());
      assertTrue(globex.events.stream().allMatch(e -> e.data().contains("\"globex-")), globex.events.toString());

      // resume after the stream's first reply: acme replays its own replies after it, never globex's
      String first = Streams.all(fx.probe, fx.outbound("web")).get(0).getId();
      long expected = acme.events.stream().filter(e -> io.sgstreams.core.bus.EntryIds.compare(e.id(), first) > 0).count();
      try (SseClient resumedAcme = new SseClient(fx.http, gw.port(), "/v1/channels/room/events",
          Map.of("Authorization", "Bearer key-acme", "Last-Event-ID", first))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> resumedAcme.events.size() >= expected);
        Thread.sleep(300);
        assertEquals(expected, resumedAcme.events.size(), resumedAcme.events.toString());
        assertTrue(expected >= 4);
        assertTrue(resumedAcme.events.stream().allMatch(e -> e.data().contains("\"acme-")), resumedAcme.events.toString());
      }
    }
  }

  @Test
  void aWebSocketSubscriptionAndItsResumeSeeOnlyTheCallersTenant() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    fx.echoWorker("w1");
    List<JsonNode> acme = new CopyOnWriteArrayList<>();
    List<JsonNode> globex = new CopyOnWriteArrayList<>();
    WebSocket a = ws(gw, "key-acme", acme);
    WebSocket g = ws(gw, "key-globex", globex);
    a.sendText("{\"type\":\"subscribe\",\"channel_id\":\"room\"}", true).join();
    g.sendText("{\"type\":\"subscribe\",\"channel_id\":\"room\"}", true).join();
    await().atMost(Duration.ofSeconds(10)).until(() -> has(acme, "subscribed") && has(globex, "subscribed"));
    // both post over their own sockets into "room"
    a.sendText("{\"type\":\"message\",\"channel_id\":\"room\",\"user_id\":\"u\",\"content\":\"ws-acme\"}", true).join();
    g.sendText("{\"type\":\"message\",\"channel_id\":\"room\",\"user_id\":\"u\",\"content\":\"ws-globex\"}", true).join();
    await().atMost(Duration.ofSeconds(20)).until(() -> replies(acme).size() == 1 && replies(globex).size() == 1);
    Thread.sleep(300);
    assertEquals(List.of("ws-acme"), replies(acme));
    assertEquals(List.of("ws-globex"), replies(globex));

    // a second round; then a new acme socket resuming after round one replays acme's round-two reply only
    String afterRoundOne = Streams.all(fx.probe, fx.outbound("web")).get(1).getId();
    a.sendText("{\"type\":\"message\",\"channel_id\":\"room\",\"user_id\":\"u\",\"content\":\"ws-acme-2\"}", true).join();
    g.sendText("{\"type\":\"message\",\"channel_id\":\"room\",\"user_id\":\"u\",\"content\":\"ws-globex-2\"}", true).join();
    await().atMost(Duration.ofSeconds(20)).until(() -> replies(acme).size() == 2 && replies(globex).size() == 2);
    List<JsonNode> resumed = new CopyOnWriteArrayList<>();
    WebSocket r = ws(gw, "key-acme", resumed);
    r.sendText("{\"type\":\"subscribe\",\"channel_id\":\"room\",\"last_event_id\":\"" + afterRoundOne + "\"}", true).join();
    await().atMost(Duration.ofSeconds(10)).until(() -> replies(resumed).size() >= 1);
    Thread.sleep(300);
    assertEquals(List.of("ws-acme-2"), replies(resumed));
    for (WebSocket w : List.of(a, g, r)) {
      w.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
    }
  }

  @Test
  void aReplyWithoutATenantBelongsToTheDefaultTenantOnly() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    try (SseClient bare = new SseClient(fx.http, gw.port(), "/v1/channels/room/events", Map.of("X-API-Key", "key-bare"));
         SseClient acme = new SseClient(fx.http, gw.port(), "/v1/channels/room/events", ACME)) {
      fx.reply("room", "from a foreign worker"); // no tenant_id
      await().atMost(Duration.ofSeconds(10)).until(() -> bare.events.size() == 1);
      Thread.sleep(300);
      assertTrue(acme.events.isEmpty(), "another tenant never sees it: " + acme.events);
    }
  }

  @Test
  void twoTenantsIdempotencyKeysNeverCollide() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", KEYS);
    HttpResponse<String> a = fx.post(gw, "/v1/messages", message("room", "a"), Map.of("Authorization", "Bearer key-acme",
        "Idempotency-Key", "same"));
    HttpResponse<String> g = fx.post(gw, "/v1/messages", message("room", "g"), Map.of("Authorization", "Bearer key-globex",
        "Idempotency-Key", "same"));
    assertEquals(202, a.statusCode());
    assertEquals(202, g.statusCode());
    assertFalse(json(a).get("id").asText().equals(json(g).get("id").asText()), "two messages, not one replayed to the other");
    assertEquals(2, inboundTenants().size());
  }

  private static boolean has(List<JsonNode> frames, String type) {
    return frames.stream().anyMatch(f -> type.equals(f.path("type").asText()));
  }

  private static List<String> replies(List<JsonNode> frames) {
    return frames.stream().filter(f -> "reply".equals(f.path("type").asText())).map(f -> f.path("content").asText()).toList();
  }

  private WebSocket ws(GatewayNode gw, String key, List<JsonNode> frames) {
    return fx.http.newWebSocketBuilder()
        .header("Authorization", "Bearer " + key)
        .buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), new WebSocket.Listener() {
          private final StringBuilder partial = new StringBuilder();

          @Override
          public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
              try {
                frames.add(GatewayFixture.json(partial.toString()));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
              partial.setLength(0);
            }
            w.request(1);
            return null;
          }
        }).join();
  }
}
