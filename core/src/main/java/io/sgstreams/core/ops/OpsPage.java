package io.sgstreams.core.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.cookie.Cookie;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.DeadLetterQueue;
import io.sgstreams.core.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The live ops page on the admin port, next to the monitoring API ({@link OpsApi#routes()} mounts it,
 * so the gateway's and standalone's admin servers both serve it):
 * <ul>
 *   <li>{@code GET /ops}: the page (from the jar, charts by the bundled uPlot: no CDN, so it works
 *       on an isolated network); without a session, a login form.
 *   <li>{@code POST /ops/login} (form field {@code key}): a valid ops key ({@code SG_OPS_KEYS}) gets a
 *       random session token in an HttpOnly, SameSite=Strict cookie that lives {@link #SESSION_TTL}, and a
 *       redirect to {@code /ops}. The key itself never goes into a URL or a cookie, so it is not in
 *       browser history, proxy logs or a stolen cookie jar; the token dies with the process.
 *   <li>{@code GET /ops/events}: Server-Sent Events, one {@code snapshot} at once and every
 *       {@link #EVERY}: the {@link StreamsReport}, each node's counter totals ({@link NodeCounters}, the
 *       page turns them into cluster rates), the DLQ's depth and latest dead letters, this process's
 *       circuit breakers and a headroom badge per work stream. A session cookie or, for scripts, the
 *       API's {@code Authorization: Bearer} / {@code X-Ops-Key}.
 * </ul>
 * Like the API, everything is open on a loopback admin address when no ops keys are set.
 */
public final class OpsPage {
  /** How long a login lasts. */
  public static final Duration SESSION_TTL = Duration.ofHours(12);
  /** How often a snapshot is sent. */
  public static final Duration EVERY = Duration.ofSeconds(2);
  /** Dead letters in a snapshot. */
  public static final int LATEST_DEAD_LETTERS = 10;
  /** A stream whose headroom is below this share of its cap is "low". */
  public static final double LOW_HEADROOM = 0.10;
  /** Sessions kept at most (each needed a valid key; the oldest goes first). */
  static final int MAX_SESSIONS = 1000;
  /** Open event streams at most: each reads Redis every {@link #EVERY}. */
  static final int MAX_WATCHERS = 32;
  static final String COOKIE = "sg_ops";
  private static final int MAX_FORM_BYTES = 4096;
  private static final String CSP = "default-src 'self'; frame-ancestors 'none'; form-action 'self'";
  private static final String PATH = "/io/sgstreams/core/ops/";

  private record Asset(String contentType, byte[] body) {}

  private static final Map<String, Asset> ASSETS = Map.of(
      "ops.js", asset("ops.js", "text/javascript; charset=utf-8"),
      "ops.css", asset("ops.css", "text/css; charset=utf-8"),
      "uPlot.iife.min.js", asset("uPlot.iife.min.js", "text/javascript; charset=utf-8"),
      "uPlot.min.css", asset("uPlot.min.css", "text/css; charset=utf-8"),
      "uPlot.LICENSE", asset("uPlot.LICENSE", "text/plain; charset=utf-8"));
  private static final String PAGE = new String(asset("ops.html", "").body(), StandardCharsets.UTF_8);
  private static final String LOGIN = new String(asset("login.html", "").body(), StandardCharsets.UTF_8);

  private final OpsApi api;
  private final RedisEventBus bus;
  private final Sessions sessions;
  private final AtomicInteger watchers = new AtomicInteger();

  public OpsPage(OpsApi api, RedisEventBus bus) {
    this(api, bus, Clock.systemUTC());
  }

  OpsPage(OpsApi api, RedisEventBus bus, Clock clock) {
    this.api = api;
    this.bus = bus;
    this.sessions = new Sessions(clock, SESSION_TTL, MAX_SESSIONS);
  }

  public Consumer<HttpServerRoutes> routes() {
    return r -> {
      r.get("/ops", (req, res) -> page(req, res))
          .post("/ops/login", (req, res) -> login(req, res))
          .post("/ops/logout", (req, res) -> logout(req, res))
          .get("/ops/events", (req, res) -> events(req, res));
      ASSETS.forEach((name, a) -> r.get("/ops/" + name, (req, res) -> res.status(HttpResponseStatus.OK)
          .header("Content-Type", a.contentType())
          .header("Cache-Control", "public, max-age=300")
          .header("X-Content-Type-Options", "nosniff")
          .sendByteArray(Mono.just(a.body()))));
    };
  }

  /** A valid session cookie, or what {@link OpsApi#check} says of the request's headers. */
  OpsApi.ApiCheck check(HttpServerRequest req) {
    Set<Cookie> cookies = req.cookies().get(COOKIE);
    if (cookies != null) {
      for (Cookie c : cookies) {
        if (sessions.valid(c.value())) {
          return OpsApi.ApiCheck.OK;
        }
      }
    }
    return api.check(req);
  }

  private Mono<Void> page(HttpServerRequest req, HttpServerResponse res) {
    OpsApi.ApiCheck c = check(req);
    if (c == OpsApi.ApiCheck.OK) {
      return html(res, 200, PAGE);
    }
    if (c == OpsApi.ApiCheck.NOT_CONFIGURED) {
      return html(res, 403, LOGIN.replace("{{message}}", escape(c.message)));
    }
    return html(res, 200, LOGIN.replace("{{message}}", ""));
  }

  private Mono<Void> login(HttpServerRequest req, HttpServerResponse res) {
    return req.receive().aggregate().asByteArray().defaultIfEmpty(new byte[0]).flatMap(body -> {
      if (api.open()) {
        return redirect(res);
      }
      String key = body.length > MAX_FORM_BYTES ? null : formField(new String(body, StandardCharsets.UTF_8), "key");
      if (!api.isKey(key)) {
        String message = api.check(req) == OpsApi.ApiCheck.NOT_CONFIGURED ? OpsApi.ApiCheck.NOT_CONFIGURED.message
            : "That is not one of the ops keys (SG_OPS_KEYS).";
        return html(res, 401, LOGIN.replace("{{message}}", escape(message)));
      }
      res.header("Set-Cookie", COOKIE + "=" + sessions.create() + "; Path=/ops; Max-Age=" + SESSION_TTL.toSeconds()
          + "; HttpOnly; SameSite=Strict");
      return redirect(res);
    });
  }

  private Mono<Void> logout(HttpServerRequest req, HttpServerResponse res) {
    Set<Cookie> cookies = req.cookies().get(COOKIE);
    if (cookies != null) {
      cookies.forEach(c -> sessions.end(c.value()));
    }
    res.header("Set-Cookie", COOKIE + "=; Path=/ops; Max-Age=0; HttpOnly; SameSite=Strict");
    return redirect(res);
  }

  private Mono<Void> events(HttpServerRequest req, HttpServerResponse res) {
    OpsApi.ApiCheck c = check(req);
    if (c != OpsApi.ApiCheck.OK) {
      return OpsApi.send(res, c.status, OpsApi.error(c.code, c.message));
    }
    if (watchers.incrementAndGet() > MAX_WATCHERS) {
      watchers.decrementAndGet();
      return OpsApi.send(res, 503, OpsApi.error("too_many_watchers", "at most " + MAX_WATCHERS + " ops pages may watch one node"));
    }
    Flux<String> events = Flux.interval(Duration.ZERO, EVERY)
        .onBackpressureDrop()
        .concatMap(i -> snapshot()
            .map(n -> "event: snapshot\ndata: " + Json.write(n) + "\n\n")
            .onErrorResume(e -> Mono.just("event: failure\ndata: "
                + Json.write(OpsApi.error("redis_unavailable", "cannot read the streams from Redis: " + e.getMessage())) + "\n\n")), 1)
        .doFinally(s -> watchers.decrementAndGet());
    return res.status(HttpResponseStatus.OK)
        .header("Content-Type", "text/event-stream; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("X-Accel-Buffering", "no")
        .sendString(events)
        .then();
  }

  /** One snapshot: the streams report plus node counters, the DLQ, breakers and badges. */
  Mono<ObjectNode> snapshot() {
    Mono<List<NodeCounters.Report>> nodes = NodeCounters.read(bus);
    Mono<List<DeadLetterQueue.DeadLetter>> dead = bus.deadLetterQueue()
        .list(DeadLetterQueue.Order.NEWEST_FIRST, null, null, LATEST_DEAD_LETTERS).collectList();
    return Mono.zip(api.report().all(), nodes, dead).map(t -> {
      ObjectNode root = t.getT1();
      Instant now = Instant.now();
      root.put("node", bus.nodeId());
      root.put("now_ms", now.toEpochMilli());
      long dlqDepth = 0;
      for (var s : root.withArray("streams")) {
        ObjectNode sn = (ObjectNode) s;
        if ("dlq".equals(sn.path("kind").asText())) {
          dlqDepth += sn.path("length").asLong(); // every DLQ partition
        }
        sn.put("headroom_badge", sn.path("headroom").isNumber()
            ? badge(sn.path("headroom").asLong(), sn.path("cap").asLong()) : null);
      }
      ArrayNode counters = root.putArray("nodes");
      for (NodeCounters.Report r : t.getT2()) {
        ObjectNode n = counters.addObject().put("node", r.node()).put("role", r.role()).put("at_ms", r.atMillis());
        r.totals().forEach(n::put);
      }
      ObjectNode dlq = root.putObject("dlq");
      dlq.put("stream", bus.topology().dlqStream());
      dlq.put("depth", dlqDepth);
      ArrayNode latest = dlq.putArray("latest");
      for (DeadLetterQueue.DeadLetter d : t.getT3()) {
        latest.addObject()
            .put("id", d.ref()) // P/ID with partitions
            .put("original_stream", d.originalStream())
            .put("error", d.error())
            .put("age_seconds", Math.max(0, Duration.between(d.deadAt(), now).toMillis()) / 1000.0);
      }
      ArrayNode breakers = root.putArray("circuit_breakers");
      breakers(bus.metrics().registry()).forEach((name, state) -> breakers.addObject().put("name", name).put("state", state));
      return root;
    });
  }

  /**
   * The circuit breakers of this process by name and state, read from the gauges resilience4j binds to the
   * registry (one per state, 1 for the current one), so the page needs no handle on the worker's breakers.
   */
  static Map<String, String> breakers(io.micrometer.core.instrument.MeterRegistry registry) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (Gauge g : registry.find("resilience4j.circuitbreaker.state").gauges()) {
      String name = g.getId().getTag("name");
      String state = g.getId().getTag("state");
      if (name != null && state != null && g.value() >= 1) {
        out.put(name, state);
      }
    }
    return out;
  }

  /** {@code full} with no headroom left (publishes are refused), {@code low} under {@link #LOW_HEADROOM} of the cap, else {@code ok}. */
  static String badge(long headroom, long cap) {
    if (headroom <= 0) {
      return "full";
    }
    return headroom < cap * LOW_HEADROOM ? "low" : "ok";
  }

  static String formField(String form, String name) {
    for (String pair : form.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      if (k.equals(name)) {
        try {
          return URLDecoder.decode(eq < 0 ? "" : pair.substring(eq + 1), StandardCharsets.UTF_8).trim();
        } catch (IllegalArgumentException e) {
          return null;
        }
      }
    }
    return null;
  }

  private static Mono<Void> html(HttpServerResponse res, int status, String body) {
    return res.status(HttpResponseStatus.valueOf(status))
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .sendString(Mono.just(body))
        .then();
  }

  private static Mono<Void> redirect(HttpServerResponse res) {
    return res.status(HttpResponseStatus.SEE_OTHER).header("Location", "/ops").header("Cache-Control", "no-store").send();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  private static Asset asset(String name, String contentType) {
    try (InputStream in = OpsPage.class.getResourceAsStream(PATH + name)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + PATH + name);
      }
      return new Asset(contentType, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Login sessions in memory: random 256-bit tokens with an expiry. In memory on purpose: a restart logs
   * everyone out, and no token is ever stored where another process could read it.
   */
  static final class Sessions {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final Map<String, Instant> expiries = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Duration ttl;
    private final int max;

    Sessions(Clock clock, Duration ttl, int max) {
      this.clock = clock;
      this.ttl = ttl;
      this.max = max;
    }

    String create() {
      Instant now = clock.instant();
      expiries.values().removeIf(e -> !e.isAfter(now));
      while (expiries.size() >= max) {
        expiries.entrySet().stream().min(Map.Entry.comparingByValue())
            .ifPresent(e -> expiries.remove(e.getKey(), e.getValue()));
      }
      byte[] b = new byte[32];
      RANDOM.nextBytes(b);
      String token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
      expiries.put(token, now.plus(ttl));
      return token;
    }

    boolean valid(String token) {
      if (token == null || token.isEmpty()) {
        return false;
      }
      Instant e = expiries.get(token);
      if (e == null) {
        return false;
      }
      if (!e.isAfter(clock.instant())) {
        expiries.remove(token, e);
        return false;
      }
      return true;
    }

    void end(String token) {
      if (token != null) {
        expiries.remove(token);
      }
    }

    int size() {
      return expiries.size();
    }
  }
}
