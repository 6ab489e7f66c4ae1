package io.sgstreams.gateway.fuzz;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * Two real gateway nodes on free loopback ports sharing one namespace of streams: one with auth
 * on ({@link #KEY}), one with auth off; rate limiting off on both so every request reaches
 * validation. No worker: nothing consumes the inbound stream, so its length counts publishes.
 */
final class FuzzGateways implements AutoCloseable {
  static final String KEY = "fuzz-key-0123456789";

  final SgConfig config;
  final RedisEventBus probe;
  final RedisEventBus authBus;
  final RedisEventBus openBus;
  final GatewayNode auth;
  final GatewayNode open;
  final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  FuzzGateways() {
    String url = TestRedis.url();
    config = TestRedis.config("fuzz").withRedisUrl(url);
    probe = TestRedis.bus(url, Role.WORKER, config.withNodeId("fuzz-probe"));
    authBus = TestRedis.bus(url, Role.GATEWAY, config.withNodeId("fuzz-auth"));
    openBus = TestRedis.bus(url, Role.GATEWAY, config.withNodeId("fuzz-open"));
    auth = GatewayNode.start(authBus, gateway(Map.of("SG_API_KEYS", KEY)), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    open = GatewayNode.start(openBus, gateway(Map.of()), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  /** A gateway section on a free port, rate limit off, plus {@code settings}. */
  private static GatewayConfig gateway(Map<String, String> settings) {
    Map<String, String> env = new java.util.HashMap<>(settings);
    env.putAll(Map.of("SG_NODE_ID", "fuzz", "SG_HTTP_PORT", "0", "SG_GATEWAY_ADMIN_PORT", "0", "SG_RATE_LIMIT_PER_MINUTE", "0"));
    return ConfigLoader.load(null, env).gateway();
  }

  /** XLEN of the inbound stream: how many messages the gateways have published so far. */
  long published() {
    return probe.connections().commands().xlen(config.topology().inboundStream()).block(Duration.ofSeconds(10));
  }

  HttpResponse<byte[]> send(GatewayNode node, String method, String pathAndQuery, byte[] body,
      Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + pathAndQuery))
        .timeout(Duration.ofSeconds(15))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  @Override
  public void close() {
    try {
      auth.shutdown().block(Duration.ofSeconds(20));
      open.shutdown().block(Duration.ofSeconds(20));
    } finally {
      authBus.close();
      openBus.close();
      probe.close();
    }
  }
}
