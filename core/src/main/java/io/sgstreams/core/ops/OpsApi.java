package io.sgstreams.core.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.json.Json;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * The monitoring API on the admin port: {@code GET /v1/streams} (every stream, {@link
 * StreamsReport}) and {@code GET /v1/streams/{name}} (one; 404 {@code unknown_stream}). Protected by
 * ops keys ({@code SG_OPS_KEYS}, separate from tenants' API keys), presented as {@code Authorization:
 * Bearer KEY} or {@code X-Ops-Key: KEY}: 401 {@code ops_key_required} / {@code invalid_ops_key}
 * otherwise. Without ops keys the API is open only on a loopback admin address (else 403 {@code
 * ops_keys_not_configured}), like the gateway's auth. The same routes carry the live ops page
 * ({@link OpsPage}, {@code GET /ops}).
 */
public final class OpsApi {
  private final StreamsReport report;
  private final RedisEventBus bus;
  private final List<byte[]> keyDigests;
  private final boolean open;

  /**
   * @param adminHost the address the admin server listens on: without keys the API is open only on loopback
   */
  public OpsApi(RedisEventBus bus, List<String> opsKeys, String adminHost) {
    this.report = new StreamsReport(bus);
    this.bus = bus;
    this.keyDigests = opsKeys.stream().filter(k -> !k.isBlank()).map(OpsApi::sha256).toList();
    this.open = keyDigests.isEmpty() && isLoopback(adminHost);
  }

  public StreamsReport report() {
    return report;
  }

  /** Whether a request may read: a valid ops key, or no keys configured on a loopback admin address. */
  public ApiCheck check(HttpServerRequest req) {
    if (open) {
      return ApiCheck.OK;
    }
    if (keyDigests.isEmpty()) {
      return ApiCheck.NOT_CONFIGURED;
    }
    String key = req.requestHeaders().get("X-Ops-Key");
    String auth = req.requestHeaders().get("Authorization");
    if (key == null && auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      key = auth.substring(7).trim();
    }
    if (key == null || key.isEmpty()) {
      return ApiCheck.MISSING;
    }
    return isKey(key) ? ApiCheck.OK : ApiCheck.INVALID;
  }

  /** Whether the API is open without a key (no keys configured, loopback admin address). */
  public boolean open() {
    return open;
  }

  /** Whether {@code key} is one of the ops keys ({@link OpsPage}'s login form checks it too). */
  public boolean isKey(String key) {
    if (key == null || key.isEmpty()) {
      return false;
    }
    byte[] d = sha256(key);
    boolean ok = false;
    for (byte[] k : keyDigests) {
      ok |= MessageDigest.isEqual(k, d); // every key compared, in constant time
    }
    return ok;
  }

  /** The outcome of {@link #check}. */
  public enum ApiCheck {
    OK(200, null, null),
    MISSING(401, "ops_key_required", "this API needs an ops key (SG_OPS_KEYS): Authorization: Bearer KEY or X-Ops-Key"),
    INVALID(401, "invalid_ops_key", "the ops key is not one of SG_OPS_KEYS"),
    NOT_CONFIGURED(403, "ops_keys_not_configured",
        "the admin port is not on a loopback address and SG_OPS_KEYS is empty: set ops keys to use this API");

    final int status;
    final String code;
    final String message;

    ApiCheck(int status, String code, String message) {
      this.status = status;
      this.code = code;
      this.message = message;
    }
  }

  /** The routes, for {@link AdminServer#start(String, int, io.micrometer.prometheusmetrics.PrometheusMeterRegistry, Readiness, Consumer)}. */
  public Consumer<HttpServerRoutes> routes() {
    OpsPage page = new OpsPage(this, bus);
    return r -> page.routes().accept(r
        .get("/v1/streams", (req, res) -> guarded(req, res, () -> report.all().map(n -> (ObjectNode) n)))
        .get("/v1/streams/{name}", (req, res) -> guarded(req, res, () -> report.named(req.param("name"))
            .switchIfEmpty(Mono.error(new UnknownStream(req.param("name")))))));
  }

  private Mono<Void> guarded(HttpServerRequest req, HttpServerResponse res, java.util.function.Supplier<Mono<ObjectNode>> body) {
    ApiCheck c = check(req);
    if (c != ApiCheck.OK) {
      if (c.status == 401) {
        res.header("WWW-Authenticate", "Bearer realm=\"sg-ops\"");
      }
      return send(res, c.status, error(c.code, c.message));
    }
    return body.get()
        .flatMap(n -> send(res, 200, n))
        .onErrorResume(UnknownStream.class, e -> send(res, 404, error("unknown_stream", e.getMessage())))
        .onErrorResume(e -> !(e instanceof UnknownStream),
            e -> send(res, 503, error("redis_unavailable", "cannot read the streams from Redis: " + e.getMessage())));
  }

  static Mono<Void> send(HttpServerResponse res, int status, ObjectNode body) {
    return res.status(HttpResponseStatus.valueOf(status))
        .header("Content-Type", "application/json")
        .header("Cache-Control", "no-store")
        .sendString(Mono.just(Json.write(body)))
        .then();
  }

  static ObjectNode error(String code, String message) {
    ObjectNode n = Json.object();
    n.putObject("error").put("code", code).put("message", message);
    return n;
  }

  private static final class UnknownStream extends RuntimeException {
    UnknownStream(String name) {
      super("no stream " + name + " in this configuration (GET /v1/streams lists them)");
    }
  }

  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
