package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.testkit.EmbeddedRedis;
import java.net.URI;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a client sees when Redis refuses part of the work: the gateway runs as a Redis user
 * without some commands (ACL), on a Redis of the test's own. A message that was published is
 * never answered with a 503, and no Redis error text reaches a client.
 */
class FailureModesTest {
  private EmbeddedRedis redis;
  private GatewayFixture fx;
  private RedisCli cli;

  @BeforeEach
  void start() throws Exception {
    redis = EmbeddedRedis.start();
    fx = new GatewayFixture(redis.url());
    cli = new RedisCli(redis.url());
  }

  @AfterEach
  void stop() throws Exception {
    try {
      cli.close();
      fx.close();
    } finally {
      redis.close();
    }
  }

  /** The Redis URL of a user allowed everything but {@code denied} commands. */
  private String userWithout(String... denied) throws Exception {
    String[] args = new String[6 + denied.length];
    args[0] = "ACL";
    args[1] = "SETUSER";
    args[2] = "gw";
    args[3] = "on";
    args[4] = ">pw";
    args[5] = "+@all";
    for (int i = 0; i < denied.length; i++) {
      args[6 + i] = "-" + denied[i];
    }
    cli.call(args);
    cli.call("ACL", "SETUSER", "gw", "~*", "&*");
    URI u = URI.create(redis.url());
    return "redis://gw:pw@" + u.getHost() + ":" + u.getPort();
  }

  @Test
  void aPublishedMessageIsNeverA503WhenItsKeyCannotBeBound() throws Exception {
    // the binding (and the fan-out's completion) are scripts: this user cannot run them
    GatewayNode gw = fx.gatewayOn(userWithout("evalsha", "eval"), "gw-a", "SG_RATE_LIMIT_PER_MINUTE", "0");
    fx.echoWorker("w1");
    HttpResponse<String> r = fx.post(gw, "/v1/messages", message("f1", "kept"), Map.of("Idempotency-Key", "bind-fails"));
    assertEquals(202, r.statusCode(), r.body());
    String id = json(r).get("id").asText();
    await("the message was published: the worker answers it").atMost(Duration.ofSeconds(10))
        .until(() -> Streams.all(fx.probe, fx.outbound("web")).stream().anyMatch(m -> id.equals(
            fx.probe.codec().decode(m.getBody().get("data"), io.sgstreams.core.envelope.OutboundEnvelope.class).inReplyTo())));
    HttpResponse<String> waited = fx.post(gw, "/v1/messages?wait=10", message("f1", "answered"),
        Map.of("Idempotency-Key", "bind-fails-2"));
    assertEquals(200, waited.statusCode(), waited.body());
    assertEquals("answered", json(waited).get("content").asText());
    // the key could not be bound: a retry is told to wait rather than publishing a second time at once
    HttpResponse<String> retry = fx.post(gw, "/v1/messages", message("f1", "kept"), Map.of("Idempotency-Key", "bind-fails"));
    assertEquals(409, retry.statusCode(), retry.body());
  }

  @Test
  void redisErrorTextsNeverReachClients() throws Exception {
    GatewayNode gw = fx.gatewayOn(userWithout("xadd"), "gw-a", "SG_RATE_LIMIT_PER_MINUTE", "0");
    HttpResponse<String> r = fx.post(gw, "/v1/messages", message("f2", "refused"));
    assertEquals(503, r.statusCode(), r.body());
    JsonNode body = json(r);
    assertEquals("unavailable", body.get("error").get("code").asText());
    assertTrue(body.hasNonNull("correlation_id"), "the reference to find the details in the log: " + r.body());
    for (String leak : List.of("NOPERM", "xadd", "XADD", "permission", fx.inbound(), "redis", "Exception")) {
      assertTrue(!r.body().contains(leak), leak + " in " + r.body());
    }

    WebSocketTest.Client c = new WebSocketTest.Client();
    WebSocket ws = fx.http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + gw.port() + "/v1/ws"), c).join();
    ws.sendText("{\"type\":\"message\",\"channel_id\":\"f2\",\"user_id\":\"u\",\"content\":\"x\"}", true).join();
    await().atMost(Duration.ofSeconds(15)).until(() -> !c.of("error").isEmpty());
    String frame = c.of("error").get(0).toString();
    assertEquals(503, c.of("error").get(0).get("status").asInt(), frame);
    for (String leak : List.of("NOPERM", "xadd", "XADD", "permission", fx.inbound())) {
      assertTrue(!frame.contains(leak), leak + " in " + frame);
    }
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").join();
  }
}
