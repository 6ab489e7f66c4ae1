package io.sgstreams.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.gateway.http.Json;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.awaitility.Awaitility;

/**
 * Random headers, bodies and frames on every route of two gateway nodes, while two tenants talk
 * live on the same channel ids (an echo worker answers; each tenant has SSE and WebSocket
 * listeners on every shared channel). Whatever is sent:
 *
 * <ul>
 *   <li>no reply ever reaches a caller of another tenant: every reply anyone receives (a waiting
 *       POST, an SSE event, a WebSocket frame, a resume) answers a message its own tenant posted,
 *       judged by the inbound stream itself (the {@code tenant_id} the gateway wrote);
 *   <li>no 5xx other than the documented 503s ({@code backlog_full}, {@code too_many_waiting}),
 *       as an HTTP status or in a WebSocket error frame.
 * </ul>
 */
class TenantTrafficPropertiesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> ROOMS = List.of("room-0", "room-1", "room-2");
  static final Map<String, String> KEYS = Map.of("acme", "key-acme", "globex", "key-globex");
  static final Set<String> DOCUMENTED_503 = Set.of("backlog_full", "too_many_waiting");

  static GatewayFixture fx;
  static List<GatewayNode> nodes;
  static ScheduledExecutorService traffic;
  static final Map<String, List<SseClient>> sseListeners = new ConcurrentHashMap<>();
  static final Map<String, WebSocketTest.Client> wsListeners = new ConcurrentHashMap<>();
  static final List<WebSocket> sockets = new CopyOnWriteArrayList<>();
  /** Inbound message id → the tenant the gateway published it for, read back from the stream. */
  static final Map<String, String> tenantOf = new ConcurrentHashMap<>();
  static final AtomicLong checkedReplies = new AtomicLong();
  static final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();

  @BeforeContainer
  static void start() throws Exception {
    fx = new GatewayFixture();
    String keys = "acme:key-acme,globex:key-globex";
    nodes = List.of(
        fx.gateway("gw-a", "SG_API_KEYS", keys, "SG_RATE_LIMIT_PER_MINUTE", "0", "SG_MAX_WAIT_SECONDS", "2"),
        fx.gateway("gw-b", "SG_API_KEYS", keys, "SG_RATE_LIMIT_PER_MINUTE", "0", "SG_MAX_WAIT_SECONDS", "2"));
    // a group that never reads keeps every inbound entry in the stream (work streams are trimmed only
    // past what every group acknowledged): the oracle reads each message's tenant there
    fx.probe.ensureGroup(fx.inbound(), "tenant-oracle").block(Duration.ofSeconds(10));
    fx.echoWorker("w1");
    // listeners: per tenant, SSE on every shared room (one per node) and one WebSocket subscribed to all rooms
    for (String tenant : KEYS.keySet()) {
      List<SseClient> sses = new CopyOnWriteArrayList<>();
      for (int i = 0; i < ROOMS.size(); i++) {
        sses.add(new SseClient(fx.http, nodes.get(i % 2).port(), "/v1/channels/" + ROOMS.get(i) + "/events",
            Map.of("X-API-Key", KEYS.get(tenant))));
      }
      sseListeners.put(tenant, sses);
      WebSocketTest.Client c = new WebSocketTest.Client();
      WebSocket ws = fx.http.newWebSocketBuilder().header("Authorization", "Bearer " + KEYS.get(tenant))
          .buildAsync(URI.create("ws://127.0.0.1:" + nodes.get(1).port() + "/v1/ws"), c).get(10, TimeUnit.SECONDS);
      for (String room : ROOMS) {
        ws.sendText("{\"type\":\"subscribe\",\"channel_id\":\"" + room + "\"}", true).get(5, TimeUnit.SECONDS);
      }
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> c.of("subscribed").size() == ROOMS.size());
      wsListeners.put(tenant, c);
      sockets.add(ws);
    }
    // live traffic: both tenants post into the same rooms, alternately, on both nodes
    traffic = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "tenant-traffic");
      t.setDaemon(true);
      return t;
    });
    AtomicInteger n = new AtomicInteger();
    traffic.scheduleWithFixedDelay(() -> {
      int i = n.getAndIncrement();
      String tenant = i % 2 == 0 ? "acme" : "globex";
      try {
        fx.post(nodes.get(i % 2), "/v1/messages", GatewayFixture.message(ROOMS.get(i % 3), tenant + "-live-" + i),
            Map.of("X-API-Key", KEYS.get(tenant)));
      } catch (Exception e) {
        // the oracle is the listeners; a failed background post only means less traffic
      }
    }, 0, 25, TimeUnit.MILLISECONDS);
  }

  @AfterContainer
  static void stop() throws Exception {
    try {
      if (traffic != null) {
        traffic.shutdownNow();
        traffic.awaitTermination(5, TimeUnit.SECONDS);
      }
      if (fx != null) {
        Thread.sleep(500); // let the last replies arrive before the final look
        for (String tenant : KEYS.keySet()) {
          long seen = checkListeners(tenant);
          assertTrue(seen > 0, tenant + "'s listeners received no live traffic: the property would prove nothing");
        }
        System.out.println("tenant traffic: statuses " + new java.util.TreeMap<>(statuses) + ", replies checked "
            + checkedReplies.get() + ", inbound messages " + tenantOf.size());
      }
    } finally {
      for (WebSocket ws : sockets) {
        ws.abort();
      }
      for (List<SseClient> l : sseListeners.values()) {
        for (SseClient s : l) {
          s.close();
        }
      }
      if (fx != null) {
        fx.close();
      }
    }
  }

  // ------------------------------------------------------------------ the oracle

  /** The tenant of inbound message {@code id}, reading the inbound stream again when it is new. */
  static String tenantOf(String id) {
    String t = tenantOf.get(id);
    if (t == null) {
      for (StreamMessage<String, byte[]> m : Streams.all(fx.probe, fx.inbound())) {
        InboundEnvelope in = fx.probe.codec().decode(m.getBody().get("data"), InboundEnvelope.class);
        tenantOf.put(in.id(), in.tenant());
      }
      t = tenantOf.get(id);
    }
    return t;
  }

  /** A reply (or an ack) that reached a caller of {@code tenant} answers a message of {@code tenant}. */
  static void assertOwn(String tenant, JsonNode reply, String where) {
    String id = reply.hasNonNull("in_reply_to") ? reply.get("in_reply_to").asText() : reply.path("id").asText();
    assertEquals(tenant, tenantOf(id), where + " gave " + tenant + " a reply to another tenant's message: " + reply);
    checkedReplies.incrementAndGet();
  }

  static void assertStatus(int status, JsonNode body, String what) {
    statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
    if (status >= 500) {
      String code = body == null ? null : body.path("error").path("code").asText(null);
      // 504 reply_timeout: ?wait ran out (e.g. ?wait=0.01 on a busy machine), the message stays accepted
      assertTrue(status == 503 && DOCUMENTED_503.contains(code) || status == 504 && "reply_timeout".equals(code),
          "an undocumented " + status + " for " + what + ": " + body);
    }
  }

  /** Every reply {@code tenant}'s standing listeners got so far is its own; how many there were. */
  static long checkListeners(String tenant) throws Exception {
    long n = 0;
    for (SseClient s : sseListeners.get(tenant)) {
      for (SseClient.Event e : s.named("message")) {
        assertOwn(tenant, JSON.readTree(e.data()), "an SSE listener");
        n++;
      }
    }
    for (JsonNode f : wsListeners.get(tenant).of("reply")) {
      assertOwn(tenant, f, "a WebSocket listener");
      n++;
    }
    return n;
  }

  static JsonNode parse(String body) {
    try {
      return body == null || body.isBlank() ? null : JSON.readTree(body);
    } catch (Exception e) {
      return null;
    }
  }

  // ------------------------------------------------------------------ properties

  @Property(tries = 200, shrinking = ShrinkingMode.BOUNDED)
  void postsNeverCrossTenantsNorFail(@ForAll("callers") String caller, @ForAll("nodeIndex") int node,
      @ForAll("messageBodies") String body, @ForAll("contentTypes") String contentType, @ForAll("waits") String wait,
      @ForAll("idempotencyKeys") String idempotencyKey, @ForAll("extraHeaders") Map<String, String> extra) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes.get(node).port() + "/v1/messages" + wait))
        .timeout(Duration.ofSeconds(15))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    extra.forEach(b::header);
    if (!contentType.isEmpty()) {
      b.header("Content-Type", contentType);
    }
    String tenant = KEYS.containsKey(caller) ? caller : null;
    if (tenant != null) {
      b.header("X-API-Key", KEYS.get(tenant));
    } else if (!caller.isEmpty()) {
      b.header("Authorization", "Bearer " + caller);
    }
    if (!idempotencyKey.isEmpty()) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    HttpResponse<String> r = fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json = parse(r.body());
    String what = "POST " + wait + " as " + caller + " " + contentType + " " + body;
    assertStatus(r.statusCode(), json, what);
    if (r.statusCode() < 300 || r.statusCode() == 504) {
      assertTrue(tenant != null, "a request without a valid key was served: " + what + " -> " + r.body());
      assertOwn(tenant, json, what + " -> " + r.statusCode());
    }
    checkListeners("acme");
    checkListeners("globex");
  }

  @Property(tries = 60, shrinking = ShrinkingMode.BOUNDED)
  void sseSubscriptionsAndResumesNeverCrossTenants(@ForAll("callers") String caller, @ForAll("nodeIndex") int node,
      @ForAll("channels") String channel, @ForAll("resumeIds") String lastEventId, @ForAll boolean inQuery,
      @ForAll("extraHeaders") Map<String, String> extra) throws Exception {
    String tenant = KEYS.containsKey(caller) ? caller : null;
    Map<String, String> headers = new HashMap<>(extra);
    String query = "";
    if (tenant != null) {
      headers.put("X-API-Key", KEYS.get(tenant));
    } else if (!caller.isEmpty()) {
      query = "?api_key=" + URLEncoder.encode(caller, StandardCharsets.UTF_8);
    }
    if (!lastEventId.isEmpty()) {
      if (inQuery) {
        query += (query.isEmpty() ? "?" : "&") + "last_event_id=" + URLEncoder.encode(lastEventId, StandardCharsets.UTF_8);
      } else {
        headers.put("Last-Event-ID", lastEventId);
      }
    }
    String path = "/v1/channels/" + channel + "/events" + query;
    try (SseClient s = new SseClient(fx.http, nodes.get(node).port(), path, headers)) {
      assertStatus(s.status, null, "GET " + path);
      if (s.status == 200) {
        assertTrue(tenant != null, "an SSE stream without a valid key: " + path);
        Thread.sleep(150); // a resume's replay arrives at once; live replies meanwhile count too
        for (SseClient.Event e : s.named("message")) {
          assertOwn(tenant, JSON.readTree(e.data()), "SSE " + path + " " + headers);
        }
      }
    }
  }

  @Property(tries = 80, shrinking = ShrinkingMode.BOUNDED)
  void webSocketFramesNeverCrossTenantsNorFail(@ForAll("callers") String caller, @ForAll("nodeIndex") int node,
      @ForAll("frameLists") List<String> frames) throws Exception {
    String tenant = KEYS.containsKey(caller) ? caller : null;
    WebSocket.Builder b = fx.http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    if (tenant != null) {
      b.header("X-API-Key", KEYS.get(tenant));
    } else if (!caller.isEmpty()) {
      b.header("Authorization", "Bearer " + caller);
    }
    WebSocketTest.Client c = new WebSocketTest.Client();
    WebSocket ws;
    try {
      ws = b.buildAsync(URI.create("ws://127.0.0.1:" + nodes.get(node).port() + "/v1/ws"), c).get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      if (e.getCause() instanceof WebSocketHandshakeException h) {
        int status = h.getResponse().statusCode();
        assertStatus(status, parse(String.valueOf(h.getResponse().body())), "WS upgrade as " + caller);
        assertTrue(status >= 400, "a failed upgrade with " + status);
        return;
      }
      throw e;
    }
    statuses.computeIfAbsent(101, s -> new AtomicInteger()).incrementAndGet();
    assertTrue(tenant != null, "a WebSocket without a valid key");
    try {
      for (String f : frames) {
        ws.sendText(f, true).get(5, TimeUnit.SECONDS);
      }
      // every text frame gets exactly one answer frame (subscribed/unsubscribed/pong/ack/error)
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> c.frames.stream()
          .filter(x -> !x.path("type").asText().equals("reply") && !x.path("type").asText().equals("reset")).count() >= frames.size());
      Thread.sleep(100);
      for (JsonNode f : c.frames) {
        String type = f.path("type").asText();
        if (type.equals("error")) {
          assertStatus(f.path("status").asInt(), f, "WS frames " + frames);
        } else if (type.equals("reply") || type.equals("ack")) {
          assertOwn(tenant, f, "WS frames " + frames);
        }
      }
    } finally {
      ws.abort();
    }
  }

  @Property(tries = 100, shrinking = ShrinkingMode.BOUNDED)
  void otherRoutesNeverFail(@ForAll("methods") String method, @ForAll("paths") String path, @ForAll("nodeIndex") int node,
      @ForAll("callers") String caller) throws Exception {
    if (method.equals("GET") && (path.startsWith("/v1/channels/") || path.equals("/v1/ws"))) {
      return; // live streams: the properties above
    }
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes.get(node).port() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, method.equals("GET") || method.equals("HEAD") ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString("{}"));
    if (KEYS.containsKey(caller)) {
      b.header("X-API-Key", KEYS.get(caller));
    }
    HttpResponse<String> r = fx.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    assertStatus(r.statusCode(), parse(r.body()), method + " " + path);
    if (path.equals("/ready") || path.equals("/metrics")) {
      assertEquals(404, r.statusCode(), path + " is on the admin port only");
    }
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<String> callers() {
    return Arbitraries.frequencyOf(
        Tuple.of(5, Arbitraries.of("acme", "globex")),
        Tuple.of(1, Arbitraries.of("", "key-acmex", "acme:key-acme", "key-globe", "default")));
  }

  @Provide
  Arbitrary<Integer> nodeIndex() {
    return Arbitraries.integers().between(0, 1);
  }

  @Provide
  Arbitrary<String> channels() {
    return Arbitraries.frequencyOf(
        Tuple.of(4, Arbitraries.of(ROOMS)),
        Tuple.of(1, Arbitraries.strings().ofMinLength(1).ofMaxLength(40).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8))));
  }

  /** Ids of the outbound stream (so resumes replay both tenants' history), and garbage. */
  @Provide
  Arbitrary<String> resumeIds() {
    return Arbitraries.frequencyOf(
        Tuple.of(2, Arbitraries.just("")),
        Tuple.of(3, Arbitraries.of("0-0", "0", "1-0")),
        Tuple.of(3, Arbitraries.integers().between(0, 50).map(i -> {
          var all = Streams.all(fx.probe, fx.outbound("web"));
          return all.isEmpty() ? "0-0" : all.get(Math.min(i, all.size() - 1)).getId();
        })),
        Tuple.of(1, Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(30).map(String::strip)));
  }

  @Provide
  Arbitrary<String> messageBodies() {
    Arbitrary<String> valid = Combinators.combine(Arbitraries.of(ROOMS), Arbitraries.strings().alpha().ofMaxLength(20),
        Arbitraries.of("web", "webhook", "nope"), Arbitraries.of(true, false))
        .as((room, content, platform, withPlatform) -> {
          ObjectNode n = Json.object().put("channel_id", room).put("user_id", "u").put("content", content);
          if (withPlatform) {
            n.put("platform", platform);
          }
          return Json.write(n);
        });
    Arbitrary<String> spoof = Arbitraries.of(
        "{\"channel_id\":\"room-0\",\"user_id\":\"u\",\"content\":\"x\",\"tenant_id\":\"globex\"}",
        "{\"channel_id\":\"room-1\",\"user_id\":\"u\",\"content\":\"x\",\"headers\":{\"sg-idempotency-record\":\"x\"}}");
    Arbitrary<String> garbage = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(100),
        Arbitraries.of("", "{", "[]", "null", "{\"channel_id\":1}", "{\"channel_id\":\"room-0\"}"));
    return Arbitraries.frequencyOf(Tuple.of(6, valid), Tuple.of(1, spoof), Tuple.of(2, garbage));
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.frequencyOf(
        Tuple.of(6, Arbitraries.of("application/json", "application/json; charset=utf-8", "Application/JSON")),
        Tuple.of(1, Arbitraries.of("", "text/plain", "application/x-www-form-urlencoded", "*/*", ";")));
  }

  @Provide
  Arbitrary<String> waits() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just("")),
        Tuple.of(3, Arbitraries.of("?wait=1", "?wait=0.5", "?wait=2", "?wait=30", "?wait=0.01")),
        Tuple.of(1, Arbitraries.of("?wait=-1", "?wait=abc", "?wait=NaN", "?wait=")));
  }

  /** A small pool shared by both tenants: a key of one must never replay the other's message. */
  @Provide
  Arbitrary<String> idempotencyKeys() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.just("")),
        Tuple.of(3, Arbitraries.of("k-1", "k-2", "k-3")),
        Tuple.of(1, Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(300)));
  }

  @Provide
  Arbitrary<Map<String, String>> extraHeaders() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.of("Origin", "X-Forwarded-For", "X-Forwarded-Host", "Cookie", "Accept", "Last-Event-ID",
            "X-Tenant", "Tenant-Id", "Forwarded", "Accept-Encoding"),
        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12).map(s -> "X-" + s));
    Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.of("globex", "acme", "https://evil.example", "127.0.0.1", "gzip"),
        Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40).map(String::strip));
    return Arbitraries.maps(name, value).ofMaxSize(3);
  }

  @Provide
  Arbitrary<List<String>> frameLists() {
    Arbitrary<String> subscribe = Combinators.combine(channels(), resumeIds(), Arbitraries.of("", "web", "webhook", "x"))
        .as((ch, last, platform) -> {
          ObjectNode n = Json.object().put("type", "subscribe").put("channel_id", java.net.URLDecoder.decode(ch, StandardCharsets.UTF_8));
          if (!last.isEmpty()) {
            n.put("last_event_id", last);
          }
          if (!platform.isEmpty()) {
            n.put("platform", platform);
          }
          return Json.write(n);
        });
    Arbitrary<String> unsubscribe = Arbitraries.of(ROOMS).map(r -> "{\"type\":\"unsubscribe\",\"channel_id\":\"" + r + "\"}");
    Arbitrary<String> message = messageBodies().map(b -> {
      JsonNode n = parse(b);
      return n != null && n.isObject() ? Json.write(((ObjectNode) n.deepCopy()).put("type", "message")) : b;
    });
    Arbitrary<String> other = Arbitraries.oneOf(
        Arbitraries.of("{\"type\":\"ping\"}", "{\"type\":\"pong\"}", "{}", "[]", "{\"type\":7}", "not json", ""),
        Arbitraries.strings().ofMaxLength(60));
    return Arbitraries.frequencyOf(Tuple.of(3, subscribe), Tuple.of(1, unsubscribe), Tuple.of(3, message), Tuple.of(2, other))
        .list().ofMinSize(1).ofMaxSize(6);
  }

  @Provide
  Arbitrary<String> methods() {
    return Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "FOO");
  }

  @Provide
  Arbitrary<String> paths() {
    return Arbitraries.oneOf(
        Arbitraries.of("/health", "/ready", "/metrics", "/v1/messages", "/v1/ws", "/", "/v1", "/v1/channels/room-0/events",
            "/v1/channels//events", "/v1/messages/x", "/admin", "/%2e%2e/ready"),
        Arbitraries.strings().alpha().numeric().ofMaxLength(20).map(s -> "/" + s));
  }
}
