package io.sgstreams.gateway.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.gateway.GatewayNode;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based garbage over HTTP against two running gateways (auth on and off): generated
 * bodies, headers, paths and methods. Whatever is thrown, the answer is never a 5xx, and a 4xx
 * never publishes anything (inbound XLEN unchanged). A request that happens to be valid may get
 * 202; then exactly one message was published (or none, for an {@code Idempotency-Key} replay).
 */
class HttpGarbagePropertiesTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final Pattern EVENTS = Pattern.compile("^/v1/channels/[^/?]+/events(\\?.*)?$");
  /** The one ops route on the public port ({@code /ready} and {@code /metrics} are on the admin port). */
  static final Set<String> OPS = Set.of("/health");

  static FuzzGateways gw;
  /** Idempotency keys that already got a stored first result: a retry may be answered without publishing. */
  static final Set<String> usedIdempotencyKeys = ConcurrentHashMap.newKeySet();
  static final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();

  @BeforeContainer
  static void start() {
    gw = new FuzzGateways();
  }

  @AfterContainer
  static void stop() {
    System.out.println("http garbage: statuses seen " + new java.util.TreeMap<>(statuses));
    if (gw != null) {
      gw.close();
    }
  }

  // ------------------------------------------------------------------ properties

  @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
  void garbageBodiesNever5xxAndA4xxPublishesNothing(@ForAll("bodies") byte[] body,
      @ForAll("contentTypes") String contentType, @ForAll boolean authOn, @ForAll("waits") String wait) throws Exception {
    Map<String, String> headers = new HashMap<>();
    headers.put("Content-Type", contentType);
    if (authOn) {
      headers.put("Authorization", "Bearer " + FuzzGateways.KEY);
    }
    check(authOn ? gw.auth : gw.open, "POST", "/v1/messages" + wait, body, headers, null);
  }

  @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
  void garbageHeadersNever5xxAndA4xxPublishesNothing(@ForAll("credentials") Map<String, String> credentials,
      @ForAll("idempotencyKeys") String idempotencyKey, @ForAll("headerValues") String lastEventId,
      @ForAll("contentTypes") String contentType, @ForAll("bodies") byte[] body, @ForAll boolean validBody)
      throws Exception {
    Map<String, String> headers = new HashMap<>(credentials);
    headers.put("Content-Type", contentType);
    if (!idempotencyKey.isEmpty()) {
      headers.put("Idempotency-Key", idempotencyKey);
    }
    headers.put("Last-Event-ID", lastEventId);
    byte[] b = validBody ? validMessage().getBytes(StandardCharsets.UTF_8) : body;
    check(gw.auth, "POST", "/v1/messages", b, headers, idempotencyKey.isEmpty() ? null : idempotencyKey);
  }

  @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
  void garbagePathsAndMethodsNever5xxAndPublishNothing(@ForAll("methods") String method, @ForAll("paths") String path,
      @ForAll("queries") String query, @ForAll boolean authOn, @ForAll("credentials") Map<String, String> credentials)
      throws Exception {
    String target = path + query;
    GatewayNode node = authOn ? gw.auth : gw.open;
    boolean goodKey = !authOn || FuzzGateways.KEY.equals(credentials.get("X-API-Key"))
        || ("Bearer " + FuzzGateways.KEY).equals(credentials.get("Authorization"))
        || query.contains("api_key=" + FuzzGateways.KEY);
    if (method.equals("GET") && goodKey && (EVENTS.matcher(target).matches() || path.equals("/v1/ws"))) {
      return; // a well-formed SSE/WebSocket subscription is valid and stays open: not garbage
    }
    byte[] body = method.equals("GET") || method.equals("HEAD") ? null : "{\"content\":1}".getBytes(StandardCharsets.UTF_8);
    check(node, method, target, body, credentials, null);
  }

  @Property(tries = 12, shrinking = ShrinkingMode.OFF)
  void hugeBodiesAreRejectedWith413(@ForAll("hugeSizes") int size, @ForAll boolean insideJson) throws Exception {
    byte[] body;
    if (insideJson) {
      ObjectNode o = NODES.objectNode().put("channel_id", "c").put("user_id", "u").put("content", "x".repeat(size));
      body = JSON.writeValueAsBytes(o);
    } else {
      body = new byte[size];
      java.util.Arrays.fill(body, (byte) '[');
    }
    int status = check(gw.open, "POST", "/v1/messages", body, Map.of("Content-Type", "application/json"), null);
    assertEquals(413, status, "a " + body.length + "-byte body");
  }

  /**
   * SSE subscriptions with garbage resume ids and channel ids: never a 5xx, nothing published; a
   * 200 must be an event stream (it is closed at once, the gateway must cope with that too).
   */
  @Property(tries = 150, shrinking = ShrinkingMode.BOUNDED)
  void garbageSseResumeIdsNever5xx(@ForAll("headerValues") String lastEventId, @ForAll boolean inQuery,
      @ForAll("channelIds") String channel, @ForAll("platformParams") String platform) throws Exception {
    long before = gw.published();
    String target = "/v1/channels/" + channel + "/events?api_key=" + FuzzGateways.KEY + platform
        + (inQuery ? "&last_event_id=" + URLEncoder.encode(lastEventId, StandardCharsets.UTF_8) : "");
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + gw.auth.port() + target))
        .timeout(java.time.Duration.ofSeconds(15)).GET();
    if (!inQuery) {
      b.header("Last-Event-ID", lastEventId);
    }
    HttpResponse<java.io.InputStream> r = gw.http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    int status = r.statusCode();
    String contentType = r.headers().firstValue("Content-Type").orElse("");
    byte[] head = status == 200 ? new byte[0] : r.body().readAllBytes();
    r.body().close();
    statuses.computeIfAbsent(status, x -> new AtomicInteger()).incrementAndGet();
    String what = "GET " + target + " Last-Event-ID " + lastEventId + " -> " + status + " "
        + new String(head, StandardCharsets.UTF_8);
    assertTrue(status < 500, "5xx for: " + what);
    assertTrue(status == 200 || (status >= 400 && status < 500), what);
    if (status == 200) {
      assertTrue(contentType.startsWith("text/event-stream"), "200 that is not an event stream: " + contentType);
    } else {
      assertTrue(JSON.readTree(head).path("error").hasNonNull("code"), "error body without code: " + what);
    }
    assertEquals(before, gw.published(), "a subscription published something: " + what);
  }

  @Provide
  Arbitrary<String> channelIds() {
    return Arbitraries.oneOf(
        Arbitraries.of("chan-1", "c", "a.b", "x%20y", "%00", "%FF", "..", "%2E%2E"),
        Arbitraries.strings().ofMinLength(1).ofMaxLength(300).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
  }

  @Provide
  Arbitrary<String> platformParams() {
    return Arbitraries.oneOf(
        Arbitraries.just(""),
        Arbitraries.of("web", "webhook", "WEB", "", "unknown", "a:b").map(p -> "&platform=" + p),
        Arbitraries.strings().ofMaxLength(20).map(p -> "&platform=" + URLEncoder.encode(p, StandardCharsets.UTF_8)));
  }

  // ------------------------------------------------------------------ the oracle

  /**
   * Sends one request and checks the outcome: never 5xx; 4xx publishes nothing; 2xx publishes
   * one message on {@code POST /v1/messages} (none for an idempotent replay) and nothing elsewhere.
   */
  static int check(GatewayNode node, String method, String target, byte[] body, Map<String, String> headers,
      String idempotencyKey) throws Exception {
    long before = gw.published();
    HttpResponse<byte[]> r = gw.send(node, method, target, body, headers);
    long delta = gw.published() - before;
    int status = r.statusCode();
    statuses.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
    String what = method + " " + target + " " + headers + " body " + preview(body) + " -> " + status + " "
        + new String(r.body(), StandardCharsets.UTF_8);
    assertTrue(status < 500, "5xx for: " + what);
    if (status >= 400) {
      assertEquals(0, delta, "a " + status + " published something: " + what);
      JsonNode err = JSON.readTree(r.body()).path("error");
      if (!method.equals("HEAD")) {
        assertTrue(err.hasNonNull("code") && err.hasNonNull("message"), "error body without code/message: " + what);
      }
    } else if (method.equals("POST") && target.startsWith("/v1/messages")) {
      assertEquals(202, status, what);
      boolean replay = idempotencyKey != null && !usedIdempotencyKeys.add(idempotencyKey);
      assertEquals(replay ? 0 : 1, delta, "an accepted message is published exactly once: " + what);
      assertTrue(JSON.readTree(r.body()).hasNonNull("id"), what);
    } else {
      String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
      assertTrue(OPS.contains(path), "a 2xx/3xx outside the API: " + what);
      assertEquals(0, delta, what);
    }
    return status;
  }

  static String preview(byte[] body) {
    if (body == null) {
      return "none";
    }
    String s = new String(body, 0, Math.min(body.length, 200), StandardCharsets.UTF_8);
    return body.length > 200 ? s + "…(" + body.length + " bytes)" : s;
  }

  static String validMessage() {
    return "{\"channel_id\":\"fuzz\",\"user_id\":\"u\",\"content\":\"hello\"}";
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<byte[]> bodies() {
    return Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(3, Arbitraries.strings().ofMaxLength(300).map(s -> s.getBytes(StandardCharsets.UTF_8))),
        net.jqwik.api.Tuple.of(2, Arbitraries.bytes().array(byte[].class).ofMaxSize(300)),
        net.jqwik.api.Tuple.of(2, invalidUtf8()),
        net.jqwik.api.Tuple.of(6, messageObjects().map(HttpGarbagePropertiesTest::bytes)),
        net.jqwik.api.Tuple.of(2, jsonValues(2).map(HttpGarbagePropertiesTest::bytes)));
  }

  /** A valid message body with one UTF-8-breaking byte sequence spliced into a string. */
  static Arbitrary<byte[]> invalidUtf8() {
    Arbitrary<byte[]> bad = Arbitraries.of(new byte[] {(byte) 0xC3}, new byte[] {(byte) 0xFF, (byte) 0xFE},
        new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xF4, (byte) 0x90, 0x41},
        new byte[] {(byte) 0x80}, new byte[] {(byte) 0xC0, (byte) 0xAF});
    return bad.map(b -> {
      byte[] head = "{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"ab".getBytes(StandardCharsets.UTF_8);
      byte[] tail = "cd\"}".getBytes(StandardCharsets.UTF_8);
      byte[] out = new byte[head.length + b.length + tail.length];
      System.arraycopy(head, 0, out, 0, head.length);
      System.arraycopy(b, 0, out, head.length, b.length);
      System.arraycopy(tail, 0, out, head.length + b.length, tail.length);
      return out;
    });
  }

  /** JSON objects over the message's field names (and extra ones), each present or not, of any type. */
  static Arbitrary<JsonNode> messageObjects() {
    List<String> names = List.of("platform", "channel_id", "user_id", "content", "attachments", "correlation_id");
    Arbitrary<JsonNode> stringish = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(40).map(s -> (JsonNode) NODES.textNode(s)),
        Arbitraries.of("web", "webhook", "", "unknown", "WEB").map(s -> (JsonNode) NODES.textNode(s)));
    Arbitrary<JsonNode> value = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, stringish),
        net.jqwik.api.Tuple.of(3, jsonValues(2)),
        net.jqwik.api.Tuple.of(1, attachments()));
    Arbitrary<Map<String, JsonNode>> known = Arbitraries.maps(Arbitraries.of(names), value).ofMaxSize(names.size());
    Arbitrary<Map<String, JsonNode>> extra = Arbitraries.maps(
        Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(12), jsonValues(1)).ofMaxSize(2);
    Arbitrary<Boolean> withExtra = Arbitraries.of(true, false, false, false);
    return Combinators.combine(known, extra, withExtra).as((k, x, w) -> {
      ObjectNode o = NODES.objectNode();
      k.forEach(o::set);
      if (w) {
        x.forEach(o::set);
      }
      return o;
    });
  }

  static Arbitrary<JsonNode> attachments() {
    Arbitrary<JsonNode> one = Combinators.combine(
        Arbitraries.strings().ofMaxLength(20), Arbitraries.of("text/plain", "", "image/png"),
        Arbitraries.oneOf(Arbitraries.of("aGVsbG8=", "not base64!", "", "===").map(s -> (JsonNode) NODES.textNode(s)),
            jsonValues(0))).as((n, m, d) -> {
              ObjectNode a = NODES.objectNode();
              a.put("name", n).put("mime", m).set("data", d);
              return (JsonNode) a;
            });
    return one.list().ofMaxSize(3).map(l -> {
      var arr = NODES.arrayNode();
      l.forEach(arr::add);
      return (JsonNode) arr;
    });
  }

  /** Any JSON value up to {@code depth} levels of nesting. */
  static Arbitrary<JsonNode> jsonValues(int depth) {
    Arbitrary<JsonNode> leaf = Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(30).map(s -> (JsonNode) NODES.textNode(s)),
        Arbitraries.longs().map(n -> (JsonNode) NODES.numberNode(n)),
        Arbitraries.doubles().map(n -> (JsonNode) NODES.numberNode(n)),
        Arbitraries.of(true, false).map(b -> (JsonNode) NODES.booleanNode(b)),
        Arbitraries.just((JsonNode) NODES.nullNode()));
    if (depth <= 0) {
      return leaf;
    }
    Arbitrary<JsonNode> inner = jsonValues(depth - 1);
    Arbitrary<JsonNode> array = inner.list().ofMaxSize(3).map(l -> {
      var a = NODES.arrayNode();
      l.forEach(a::add);
      return (JsonNode) a;
    });
    Arbitrary<JsonNode> object = Arbitraries.maps(Arbitraries.strings().alpha().ofMaxLength(8), inner).ofMaxSize(3)
        .map(m -> {
          ObjectNode o = NODES.objectNode();
          m.forEach(o::set);
          return (JsonNode) o;
        });
    return Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, leaf), net.jqwik.api.Tuple.of(1, array),
        net.jqwik.api.Tuple.of(1, object));
  }

  @Provide
  Arbitrary<String> contentTypes() {
    return Arbitraries.oneOf(
        Arbitraries.of("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x", "application/octet-stream", "*/*", ";;;", "application/json; charset=latin1"),
        headerValues());
  }

  /** Printable ASCII: what an HTTP client can put in a header at all. */
  @Provide
  Arbitrary<String> headerValues() {
    return Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(80).map(String::strip);
  }

  @Provide
  Arbitrary<String> idempotencyKeys() {
    return Arbitraries.oneOf(
        Arbitraries.just(""),
        Arbitraries.of("dup-1", "dup-2", "dup-3"),
        Arbitraries.strings().withCharRange('!', '~').ofMinLength(1).ofMaxLength(300));
  }

  @Provide
  Arbitrary<Map<String, String>> credentials() {
    Arbitrary<String> key = Arbitraries.oneOf(
        Arbitraries.just(FuzzGateways.KEY),
        Arbitraries.just(FuzzGateways.KEY + "x"),
        Arbitraries.just(FuzzGateways.KEY.substring(1)),
        headerValues());
    return Arbitraries.oneOf(
        Arbitraries.just(Map.<String, String>of()),
        key.map(k -> Map.of("Authorization", "Bearer " + k)),
        key.map(k -> Map.of("X-API-Key", k)),
        headerValues().map(v -> Map.of("Authorization", v)),
        Combinators.combine(headerValues(), key).as((a, k) -> Map.of("Authorization", a, "X-API-Key", k)));
  }

  @Provide
  Arbitrary<String> waits() {
    return Arbitraries.oneOf(
        Arbitraries.just(""),
        Arbitraries.of("abc", "-1", "NaN", "Infinity", "1e999", "", "0x10", "1,5", "%00")
            .map(w -> "?wait=" + URLEncoder.encode(w, StandardCharsets.UTF_8)),
        Arbitraries.strings().ofMaxLength(20).filter(s -> !s.isBlank() && !isNumber(s))
            .map(w -> "?wait=" + URLEncoder.encode(w, StandardCharsets.UTF_8)));
  }

  static boolean isNumber(String s) {
    try {
      Double.parseDouble(s.strip());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  @Provide
  Arbitrary<String> methods() {
    return Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO");
  }

  @Provide
  Arbitrary<String> paths() {
    Arbitrary<String> segment = Arbitraries.oneOf(
        Arbitraries.of("v1", "messages", "channels", "events", "ws", "health", "ready", "metrics", "v2", "..", ".",
            "%00", "%2F", "%zz".replace("zz", "25zz"), "", "chan-1"),
        Arbitraries.strings().ofMaxLength(20).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
    return Arbitraries.oneOf(
        segment.list().ofMinSize(1).ofMaxSize(5).map(l -> "/" + String.join("/", l)),
        Arbitraries.of("/v1/messages", "/v1/messages/", "/v1/channels//events", "/v1/channels/c/events/x",
            "/v1/ws/x", "//v1/messages", "/V1/MESSAGES", "/v1/channels/c/events"));
  }

  @Provide
  Arbitrary<String> queries() {
    Arbitrary<String> name = Arbitraries.of("wait", "api_key", "platform", "last_event_id", "x", "");
    Arbitrary<String> value = Arbitraries.oneOf(
        Arbitraries.of(FuzzGateways.KEY, "web", "-1", "abc"),
        Arbitraries.strings().ofMaxLength(20).map(s -> URLEncoder.encode(s, StandardCharsets.UTF_8)));
    Arbitrary<String> pair = Combinators.combine(name, value).as((n, v) -> n + "=" + v);
    return pair.list().ofMaxSize(3).map(l -> l.isEmpty() ? "" : "?" + String.join("&", l));
  }

  @Provide
  Arbitrary<Integer> hugeSizes() {
    return Arbitraries.integers().between((1 << 20) + 1, 3 << 20);
  }

  static byte[] bytes(JsonNode n) {
    try {
      return JSON.writeValueAsBytes(n);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
