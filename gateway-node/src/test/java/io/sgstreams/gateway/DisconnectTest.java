package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.testkit.EmbeddedRedis;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that hangs up while its message is being published or while it waits for the reply
 * leaves nothing behind: no waiting slot, no Idempotency-Key stuck "in progress". The publish is
 * held in flight deterministically by pausing writes on a Redis of the test's own
 * ({@code CLIENT PAUSE … WRITE}; reads such as XLEN and CLIENT LIST still answer), and the tests
 * check that the race happened: the XADD was blocked in Redis when the client left, and the
 * message was published after it had left.
 */
class DisconnectTest {
  /** Shorter than the gateway's 10 s command timeout, so the held XADD is never retried. */
  private static final String PAUSE_MS = "9000";
  private static final Duration SHORT = Duration.ofSeconds(4);

  private EmbeddedRedis redis;
  private GatewayFixture fx;
  private RedisCli cli;

  @BeforeEach
  void start() throws Exception {
    redis = EmbeddedRedis.start(); // its own: pausing the shared one would stall other tests
    fx = new GatewayFixture(redis.url());
    cli = new RedisCli(redis.url());
  }

  @AfterEach
  void stop() throws Exception {
    try {
      cli.call("CLIENT", "UNPAUSE");
      cli.close();
      fx.close();
    } finally {
      redis.close();
    }
  }

  private long inbound() {
    return Streams.length(fx.probe, fx.inbound());
  }

  private String publishedId() {
    var entries = Streams.all(fx.probe, fx.inbound());
    assertEquals(1, entries.size(), "published exactly once");
    return fx.probe.codec().decode(entries.get(0).getBody().get("data"), InboundEnvelope.class).id();
  }

  @Test
  void aClientHangingUpWhileItsMessageIsPublishedLeavesNoWaiter() throws Exception {
    // rate limit off: its counter script is a write and would be held by the pause before the XADD
    GatewayNode gw = fx.gateway("gw-a", "SG_RATE_LIMIT_PER_MINUTE", "0");
    cli.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE");
    try (RawHttp c = new RawHttp(gw.port())) {
      c.send(RawHttp.post("/v1/messages?wait=30", message("d1", "bye")));
      await().atMost(SHORT).until(() -> gw.waitingRequests() == 1 && cli.blockedOn("xadd"));
      assertEquals(0, inbound());
    } // hangs up while the XADD is held
    await("the waiter is released when the client leaves").atMost(SHORT).until(() -> gw.waitingRequests() == 0);
    assertEquals(0, inbound(), "the XADD was still in flight when the client left");
    cli.call("CLIENT", "UNPAUSE");
    await().atMost(Duration.ofSeconds(10)).until(() -> inbound() == 1);
    assertEquals(0, gw.waitingRequests(), "the publish that completed after the client left registered nothing");
  }

  @Test
  void aClientHangingUpWhileItsIdempotentMessageIsPublishedGetsThatMessageOnRetry() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_RATE_LIMIT_PER_MINUTE", "0");
    cli.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE");
    try (RawHttp c = new RawHttp(gw.port())) {
      c.send(RawHttp.post("/v1/messages?wait=30", message("d2", "once"), "Idempotency-Key: order-7"));
      await().atMost(SHORT).until(() -> gw.waitingRequests() == 1 && (cli.blockedOn("set") || cli.blockedOn("xadd")));
      assertEquals(0, inbound());
    }
    await("the waiter is released when the client leaves").atMost(SHORT).until(() -> gw.waitingRequests() == 0);
    assertEquals(0, inbound(), "nothing was published yet when the client left");
    cli.call("CLIENT", "UNPAUSE");
    await().atMost(Duration.ofSeconds(10)).until(() -> inbound() == 1);
    String id = publishedId();

    fx.echoWorker("w1");
    Map<String, String> key = Map.of("Idempotency-Key", "order-7");
    HttpResponse<String> retry = fx.post(gw, "/v1/messages?wait=10", message("d2", "once"), key);
    assertEquals(200, retry.statusCode(), "the retry gets the message's reply, not 409 for 24 h: " + retry.body());
    assertEquals(id, json(retry).get("in_reply_to").asText());
    assertEquals("once", json(retry).get("content").asText());
    assertEquals(id, publishedId());
    assertEquals(0, gw.waitingRequests());
  }

  @Test
  void aClientHangingUpDuringItsWaitCanRetryOnAnyNodeAndGetsThatMessagesReply() throws Exception {
    GatewayNode a = fx.gateway("gw-a");
    Map<String, String> key = Map.of("Idempotency-Key", "k-3");
    try (RawHttp c = new RawHttp(a.port())) {
      c.send(RawHttp.post("/v1/messages?wait=30", message("d3", "hello"), "Idempotency-Key: k-3"));
      await().atMost(SHORT).until(() -> a.waitingRequests() == 1 && inbound() == 1);
    }
    await("the waiter is released when the client leaves").atMost(SHORT).until(() -> a.waitingRequests() == 0);
    String id = publishedId();

    // no worker yet: the retry waits for the same message, as the first request would have
    CompletableFuture<HttpResponse<String>> retry = CompletableFuture.supplyAsync(() -> {
      try {
        return fx.post(a, "/v1/messages?wait=20", message("d3", "hello"), key);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    await().atMost(SHORT).until(() -> a.waitingRequests() == 1 || retry.isDone());
    assertTrue(!retry.isDone(), () -> "the retry was answered at once: " + retry.join().body());
    fx.echoWorker("w1");
    HttpResponse<String> r = retry.get(30, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(id, json(r).get("in_reply_to").asText());

    // a node started after the reply never saw it on its tail: the record in Redis has it
    GatewayNode b = fx.gateway("gw-b");
    HttpResponse<String> again = fx.post(b, "/v1/messages?wait=5", message("d3", "hello"), key);
    assertEquals(200, again.statusCode(), again.body());
    assertEquals(json(r), json(again));
    HttpResponse<String> noWait = fx.post(b, "/v1/messages", message("d3", "hello"), key);
    assertEquals(202, noWait.statusCode(), noWait.body());
    assertEquals(id, json(noWait).get("id").asText());
    assertEquals(id, publishedId());
  }

  @Test
  void theRecordIsCompletedByTheReplyFanOutWithNoClientWaiting() throws Exception {
    GatewayNode a = fx.gateway("gw-a");
    GatewayNode b = fx.gateway("gw-b");
    Map<String, String> key = Map.of("Idempotency-Key", "k-4");
    HttpResponse<String> first = fx.post(a, "/v1/messages", message("d4", "fire and forget"), key);
    assertEquals(202, first.statusCode());
    String id = json(first).get("id").asText();
    fx.echoWorker("w1");
    await().atMost(Duration.ofSeconds(10)).until(() -> Streams.length(fx.probe, fx.outbound("web")) == 1);
    // gateway b's retry: answered from the record the fan-out completed, with no wait at all
    await().atMost(Duration.ofSeconds(10)).until(() -> fx.post(b, "/v1/messages?wait=0.05", message("d4", "x"), key).statusCode() == 200);
    HttpResponse<String> r = fx.post(b, "/v1/messages?wait=0.05", message("d4", "x"), key);
    assertEquals(id, json(r).get("in_reply_to").asText());
    assertEquals("fire and forget", json(r).get("content").asText());
    assertEquals(id, publishedId());
  }
}
