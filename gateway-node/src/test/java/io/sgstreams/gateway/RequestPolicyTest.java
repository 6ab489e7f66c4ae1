package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.GatewayConfig;
import io.sgstreams.core.testing.Streams;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Auth, rate limit, idempotency and input validation. */
class RequestPolicyTest {
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void apiKeysMissingIs401WrongIs403OpsStayOpen() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", "k1,k2");
    HttpResponse<String> none = fx.post(gw, "/v1/messages", message("a", "x"));
    assertEquals(401, none.statusCode());
    assertEquals("unauthorized", json(none).get("error").get("code").asText());
    HttpResponse<String> wrong = fx.post(gw, "/v1/messages", message("a", "x"), Map.of("Authorization", "Bearer nope"));
    assertEquals(403, wrong.statusCode());
    assertEquals("forbidden", json(wrong).get("error").get("code").asText());
    assertEquals(202, fx.post(gw, "/v1/messages", message("a", "x"), Map.of("Authorization", "Bearer k2")).statusCode());
    assertEquals(202, fx.post(gw, "/v1/messages", message("a", "x"), Map.of("X-API-Key", "k1")).statusCode());
    assertEquals(401, fx.get(gw, "/v1/channels/a/events", Map.of()).statusCode());
    assertEquals(200, fx.get(gw, "/health", Map.of()).statusCode());
    assertEquals(200, fx.admin(gw, "/ready").statusCode());
    assertEquals(2, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void rateLimitIsSharedAcrossNodesAndAnswers429WithRetryAfter() throws Exception {
    GatewayNode a = fx.gateway("gw-a", "SG_API_KEYS", "k1", "SG_RATE_LIMIT_PER_MINUTE", "3");
    GatewayNode b = fx.gateway("gw-b", "SG_API_KEYS", "k1", "SG_RATE_LIMIT_PER_MINUTE", "3");
    Map<String, String> key = Map.of("X-API-Key", "k1");
    assertEquals(202, fx.post(a, "/v1/messages", message("r", "1"), key).statusCode());
    assertEquals(202, fx.post(b, "/v1/messages", message("r", "2"), key).statusCode());
    assertEquals(202, fx.post(a, "/v1/messages", message("r", "3"), key).statusCode());
    HttpResponse<String> limited = fx.post(b, "/v1/messages", message("r", "4"), key);
    assertEquals(429, limited.statusCode());
    long retryAfter = Long.parseLong(limited.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
    assertEquals("rate_limited", json(limited).get("error").get("code").asText());
    assertEquals(3, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void idempotencyKeyPublishesOnceAndReplaysTheFirstResult() throws Exception {
    GatewayNode gw = fx.gateway();
    Map<String, String> h = Map.of("Idempotency-Key", "order-1");
    HttpResponse<String> first = fx.post(gw, "/v1/messages", message("i", "once"), h);
    HttpResponse<String> again = fx.post(gw, "/v1/messages", message("i", "once"), h);
    assertEquals(202, first.statusCode());
    assertEquals(202, again.statusCode());
    assertEquals(json(first), json(again));
    assertEquals(1, Streams.length(fx.probe, fx.inbound()));
    // another key publishes again
    assertEquals(202, fx.post(gw, "/v1/messages", message("i", "twice"), Map.of("Idempotency-Key", "order-2")).statusCode());
    assertEquals(2, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void aConcurrentDuplicateWaitsForTheSameMessage() throws Exception {
    GatewayNode gw = fx.gateway();
    Map<String, String> h = Map.of("Idempotency-Key", "slow-1");
    CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> {
      try {
        return fx.post(gw, "/v1/messages?wait=2", message("i", "slow"), h);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
        .until(() -> gw.waitingRequests() == 1 && Streams.length(fx.probe, fx.inbound()) == 1);
    // published and waiting: the duplicate waits for that message too (no worker runs: both time out)
    HttpResponse<String> dup = fx.post(gw, "/v1/messages?wait=2", message("i", "slow"), h);
    assertEquals(504, dup.statusCode(), dup.body());
    assertEquals(504, first.get().statusCode());
    assertEquals(json(first.get()), json(dup));
    HttpResponse<String> after = fx.post(gw, "/v1/messages?wait=2", message("i", "slow"), h);
    assertEquals(504, after.statusCode());
    assertEquals(json(first.get()), json(after));
    HttpResponse<String> noWait = fx.post(gw, "/v1/messages", message("i", "slow"), h);
    assertEquals(202, noWait.statusCode());
    assertEquals(json(first.get()).get("id"), json(noWait).get("id"));
    assertEquals(1, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void aRequestRefusedBeforePublishingReleasesItsKey() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_MAX_BODY_BYTES", "2048");
    Map<String, String> h = Map.of("Idempotency-Key", "bad-then-good");
    assertEquals(400, fx.post(gw, "/v1/messages", "{\"channel_id\":1}", h).statusCode());
    HttpResponse<String> good = fx.post(gw, "/v1/messages", message("i", "fixed"), h);
    assertEquals(202, good.statusCode(), "the key of a request that published nothing is free: " + good.body());
    assertEquals(1, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void badInputGetsClear4xxAndNothingIsPublished() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_MAX_BODY_BYTES", "2048");
    List<String[]> cases = new ArrayList<>();
    cases.add(new String[] {"{not json", "400", "invalid_json"});
    cases.add(new String[] {"[1,2]", "400", "invalid_body"});
    cases.add(new String[] {"", "400", "invalid_body"});
    cases.add(new String[] {"{\"user_id\":\"u\",\"content\":\"x\"}", "400", "missing_field"});
    cases.add(new String[] {"{\"channel_id\":\"\",\"user_id\":\"u\",\"content\":\"x\"}", "400", "missing_field"});
    cases.add(new String[] {"{\"channel_id\":5,\"user_id\":\"u\",\"content\":\"x\"}", "400", "invalid_type"});
    cases.add(new String[] {"{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":[]}", "400", "invalid_type"});
    cases.add(new String[] {"{\"platform\":\"telegraph\",\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"x\"}", "400", "unknown_platform"});
    cases.add(new String[] {"{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"x\",\"attachments\":[{\"name\":\"a\",\"mime\":\"b\",\"data\":\"***\"}]}", "400", "invalid_base64"});
    cases.add(new String[] {"{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"x\",\"attachments\":{}}", "400", "invalid_field"});
    cases.add(new String[] {"{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"x\",\"extra\":1}", "400", "unknown_field"});
    cases.add(new String[] {"{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"" + "x".repeat(5000) + "\"}", "413", "body_too_large"});
    for (String[] c : cases) {
      HttpResponse<String> r = fx.post(gw, "/v1/messages", c[0]);
      assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[0] + " -> " + r.body());
      assertEquals(c[2], json(r).get("error").get("code").asText(), c[0]);
      assertTrue(json(r).get("error").get("message").asText().length() > 5);
    }
    HttpResponse<String> badWait = fx.post(gw, "/v1/messages?wait=soon", message("c", "x"));
    assertEquals(400, badWait.statusCode());
    assertEquals(0, Streams.length(fx.probe, fx.inbound()));
  }

  @Test
  void nonLoopbackWithoutKeysRefusesToStart() {
    GatewayConfig open = GatewayFixture.gatewayConfig("SG_HTTP_HOST", "0.0.0.0");
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.sgstreams.core.config.ConfigException.class,
        () -> GatewayNode.start(fx.probe, open, new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
            io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT)));
    assertEquals("SG_API_KEYS", e.key());
    var bad = org.junit.jupiter.api.Assertions.assertThrows(io.sgstreams.core.config.ConfigException.class,
        () -> GatewayFixture.gatewayConfig("SG_MAX_WAIT_SECONDS", "lots"));
    assertEquals("SG_MAX_WAIT_SECONDS", bad.key());
    GatewayConfig ok = GatewayFixture.gatewayConfig("SG_HTTP_HOST", "0.0.0.0", "SG_API_KEYS", "a, b", "SG_HTTP_PORT", "8080");
    ok.requireAuthUnlessLoopback();
    assertEquals(List.of("a", "b"), ok.apiKeys());
    assertEquals(8080, ok.port());
    assertEquals(Duration.ofSeconds(30), ok.maxWait());
  }
}
