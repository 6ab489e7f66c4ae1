package io.sgstreams.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.gateway.http.Json;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WebhookTest {
  private final GatewayFixture fx = new GatewayFixture();
  private HttpServer hook;
  private final List<JsonNode> received = new CopyOnWriteArrayList<>();
  private final List<String> keys = new CopyOnWriteArrayList<>();
  private final AtomicInteger hits = new AtomicInteger();

  @AfterEach
  void close() throws Exception {
    fx.close();
    if (hook != null) {
      hook.stop(0);
    }
  }

  private URI startHook(int status) throws Exception {
    hook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hook.createContext("/hook", ex -> {
      hits.incrementAndGet();
      byte[] body = ex.getRequestBody().readAllBytes();
      received.add(Json.readTree(body));
      keys.add(ex.getRequestHeaders().getFirst("X-SG-Message-Key"));
      ex.sendResponseHeaders(status, -1);
      ex.close();
    });
    hook.start();
    return URI.create("http://127.0.0.1:" + hook.getAddress().getPort() + "/hook");
  }

  private OutboundEnvelope webhookReply(String content) {
    InboundEnvelope in = InboundEnvelope.create("webhook", "hook-chan", "u", content);
    return OutboundEnvelope.replyTo(in, "message", content);
  }

  @Test
  void repliesOnTheWebhookPlatformArePosted() throws Exception {
    URI url = startHook(204);
    fx.gateway("gw-a", "SG_WEBHOOK_URL", url.toString(), "SG_WEBHOOK_MAX_ATTEMPTS", "3", "SG_WEBHOOK_BACKOFF_MS", "50");
    OutboundEnvelope o = webhookReply("to the hook");
    String id = fx.probe.publishOutbound("webhook", o).block();
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1);
    assertEquals("to the hook", received.get(0).get("content").asText());
    assertEquals(id, received.get(0).get("stream_id").asText());
    assertEquals(o.messageKey(), keys.get(0));
    String stream = fx.outbound("webhook");
    await().atMost(Duration.ofSeconds(10))
        .until(() -> Streams.pending(fx.probe, stream, fx.config.topology().gatewayGroup("webhook")) == 0);
    assertEquals(0, Streams.length(fx.probe, fx.config.topology().dlqStream()));
  }

  @Test
  void aWebhookGetsTheAnswerNotTheDeltasOnTheWay() throws Exception {
    URI url = startHook(204);
    fx.gateway("gw-a", "SG_WEBHOOK_URL", url.toString());
    InboundEnvelope in = InboundEnvelope.create("webhook", "hook-chan", "u", "q");
    for (int i = 0; i < 5; i++) {
      fx.probe.publishOutbound("webhook", OutboundEnvelope.delta(in, 1, i, "part" + i)).block();
    }
    fx.probe.publishOutbound("webhook", OutboundEnvelope.replyTo(in, "message", "part0part1part2part3part4")).block();
    String stream = fx.outbound("webhook");
    // every entry acknowledged (the deltas without a POST), nothing dead-lettered
    await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 1
        && Streams.pending(fx.probe, stream, fx.config.topology().gatewayGroup("webhook")) == 0);
    assertEquals("message", received.get(0).get("type").asText());
    assertEquals(1, hits.get());
    assertEquals(0, Streams.length(fx.probe, fx.config.topology().dlqStream()));
  }

  @Test
  void aDeadLetterNeverCarriesTheWebhookUrlsSecrets() throws Exception {
    URI hookUrl = startHook(500);
    URI secret = URI.create("http://bot:pa55word@127.0.0.1:" + hookUrl.getPort() + "/hook?token=t0k3n-SECRET&x=1");
    fx.gateway("gw-a", "SG_WEBHOOK_URL", secret.toString(), "SG_WEBHOOK_MAX_ATTEMPTS", "2", "SG_WEBHOOK_BACKOFF_MS", "50");
    fx.probe.publishOutbound("webhook", webhookReply("doomed")).block();
    String dlq = fx.config.topology().dlqStream();
    await().atMost(Duration.ofSeconds(15)).until(() -> Streams.length(fx.probe, dlq) == 1);
    var dead = Streams.all(fx.probe, dlq).get(0).getBody();
    String error = new String(dead.get("error"), StandardCharsets.UTF_8);
    for (String secretPart : List.of("pa55word", "t0k3n-SECRET", "token=", "bot:")) {
      assertTrue(!error.contains(secretPart), secretPart + " in the dead letter: " + error);
    }
    assertTrue(error.contains("http://***@127.0.0.1:" + hookUrl.getPort() + "/hook?***"), error);
    assertEquals("http://***@hooks.example/in?***",
        io.sgstreams.gateway.webhook.WebhookDelivery.redact(URI.create("http://u:p@hooks.example/in?sig=abc")));
    assertEquals("https://hooks.example:8443/in", io.sgstreams.gateway.webhook.WebhookDelivery.redact(URI.create("https://hooks.example:8443/in")));
  }

  @Test
  void failingWebhookIsRetriedThenDeadLettered() throws Exception {
    URI url = startHook(500);
    fx.gateway("gw-a", "SG_WEBHOOK_URL", url.toString(), "SG_WEBHOOK_MAX_ATTEMPTS", "3", "SG_WEBHOOK_BACKOFF_MS", "50");
    String id = fx.probe.publishOutbound("webhook", webhookReply("doomed")).block();
    String dlq = fx.config.topology().dlqStream();
    await().atMost(Duration.ofSeconds(15)).until(() -> Streams.length(fx.probe, dlq) == 1);
    assertEquals(3, hits.get());
    var dead = Streams.all(fx.probe, dlq).get(0).getBody();
    assertEquals(fx.outbound("webhook"), new String(dead.get("original_stream"), StandardCharsets.UTF_8));
    assertEquals(id, new String(dead.get("original_id"), StandardCharsets.UTF_8));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> Streams.pending(fx.probe, fx.outbound("webhook"), fx.config.topology().gatewayGroup("webhook")) == 0);
  }
}
