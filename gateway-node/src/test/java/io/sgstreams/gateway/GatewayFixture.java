package io.sgstreams.gateway;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.http.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/** One namespace of streams, gateway nodes on free ports, an optional echo worker, and an HTTP client. */
final class GatewayFixture implements AutoCloseable {
  final String redisUrl;
  final SgConfig config;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<GatewayNode> nodes = new ArrayList<>();
  private final List<Router> routers = new ArrayList<>();
  final RedisEventBus probe;

  GatewayFixture() {
    this(TestRedis.url());
  }

  /** On the Redis at {@code redisUrl} (a test that pauses its Redis brings one of its own). */
  GatewayFixture(String redisUrl) {
    this.redisUrl = redisUrl;
    this.config = TestRedis.config("gw-test").withRedisUrl(redisUrl);
    probe = TestRedis.bus(redisUrl, Role.WORKER, config);
    closeables.add(probe);
  }

  /**
   * A gateway node on a free port with the gateway section read from {@code settings}, variable
   * names and values in turn ({@code "SG_API_KEYS", "k1,k2"}), as an operator would set them.
   */
  GatewayNode gateway(String nodeId, String... settings) {
    return gatewayOn(redisUrl, nodeId, settings);
  }

  /** A gateway node connecting to Redis as {@code url} says (e.g. as another Redis user). */
  GatewayNode gatewayOn(String url, String nodeId, String... settings) {
    RedisEventBus bus = TestRedis.bus(url, Role.GATEWAY, config.withNodeId(nodeId));
    closeables.add(bus);
    GatewayNode n = GatewayNode.start(bus, gatewayConfig(settings), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    nodes.add(n);
    return n;
  }

  /** A gateway node with the journal on, into database {@code postgresUrl} (small batches, fast retries). */
  GatewayNode journaled(String nodeId, String postgresUrl, String... settings) {
    SgConfig c = config.withNodeId(nodeId).withJournal(config.journal().withPostgresUrl(postgresUrl)
        .withBatch(20, Duration.ofMillis(10)).withRetryMax(Duration.ofMillis(500)));
    RedisEventBus bus = TestRedis.bus(redisUrl, Role.GATEWAY, c);
    closeables.add(bus);
    GatewayNode n = GatewayNode.start(bus, gatewayConfig(settings), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    nodes.add(n);
    return n;
  }

  GatewayNode gateway() {
    return gateway("gw-a");
  }

  /** The gateway section from these variables (and SG_HTTP_PORT=0, SG_GATEWAY_ADMIN_PORT=0 unless given). */
  static GatewayConfig gatewayConfig(String... settings) {
    Map<String, String> env = new HashMap<>(Map.of("SG_NODE_ID", "gw-test", "SG_HTTP_PORT", "0",
        "SG_GATEWAY_ADMIN_PORT", "0"));
    for (int i = 0; i < settings.length; i += 2) {
      env.put(settings[i], settings[i + 1]);
    }
    return ConfigLoader.load(null, env).gateway();
  }

  /** The echo handler of the wire contract, in a consumer of the worker group. */
  void echoWorker(String nodeId) {
    RedisEventBus bus = TestRedis.bus(redisUrl, Role.WORKER, config.withNodeId(nodeId));
    closeables.add(bus);
    ReceiverOptions opts = ReceiverOptions.of(config.topology().inboundStream(), config.topology().workerGroup(),
        bus.consumerName(), config.consumer());
    bus.ensureGroup(config.topology().inboundStream(), config.topology().workerGroup()).block();
    routers.add(Router.create(bus, opts, d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content()))));
    }).start());
  }

  /**
   * A handler that streams: the content's words as {@code delta} replies (one per word, through the
   * delivery, attempt = delivery count), then the whole content as the final {@code message}.
   */
  void streamingWorker(String nodeId) {
    RedisEventBus bus = TestRedis.bus(redisUrl, Role.WORKER, config.withNodeId(nodeId));
    closeables.add(bus);
    ReceiverOptions opts = ReceiverOptions.of(config.topology().inboundStream(), config.topology().workerGroup(),
        bus.consumerName(), config.consumer());
    bus.ensureGroup(config.topology().inboundStream(), config.topology().workerGroup()).block();
    routers.add(Router.create(bus, opts, d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      String[] words = in.content().split("(?<= )");
      return reactor.core.publisher.Flux.range(0, words.length)
          .concatMap(i -> d.emit(Reply.outbound(OutboundEnvelope.delta(in, (int) d.deliveryCount(), i, words[i]))))
          .then(Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content())))));
    }).start());
  }

  String inbound() {
    return config.topology().inboundStream();
  }

  String outbound(String platform) {
    return config.topology().outboundStream(platform);
  }

  /** Publishes a reply directly, as a worker would. */
  String reply(String channel, String content) {
    InboundEnvelope in = InboundEnvelope.create("web", channel, "u", content);
    return probe.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", content)).block();
  }

  HttpResponse<String> post(GatewayNode n, String pathAndQuery, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port() + pathAndQuery))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(GatewayNode n, String pathAndQuery, String body) throws Exception {
    return post(n, pathAndQuery, body, Map.of());
  }

  HttpResponse<String> get(GatewayNode n, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.port() + path))
        .timeout(Duration.ofSeconds(10)).GET();
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A GET on the node's admin port ({@code /ready}, {@code /metrics}). */
  HttpResponse<String> admin(GatewayNode n, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.adminPort() + path))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.readTree(r.body());
  }

  static JsonNode json(String text) throws Exception {
    return Json.readTree(text);
  }

  static String message(String channel, String content) {
    return "{\"channel_id\":\"" + channel + "\",\"user_id\":\"u1\",\"content\":\"" + content + "\"}";
  }

  @Override
  public void close() throws Exception {
    for (Router r : routers) {
      r.shutdown(Duration.ofSeconds(2)).block(Duration.ofSeconds(10));
    }
    for (GatewayNode n : nodes) {
      n.shutdown().block(Duration.ofSeconds(20));
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }
}
