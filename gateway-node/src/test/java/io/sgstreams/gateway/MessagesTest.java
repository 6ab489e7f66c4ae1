package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MessagesTest {
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void postWithoutWaitAnswers202AndPublishesTheInboundEnvelope() throws Exception {
    GatewayNode gw = fx.gateway();
    HttpResponse<String> r = fx.post(gw, "/v1/messages",
        "{\"channel_id\":\"c1\",\"user_id\":\"u1\",\"content\":\"hi\",\"correlation_id\":\"corr-9\","
            + "\"attachments\":[{\"name\":\"a.txt\",\"mime\":\"text/plain\",\"data\":\"aGVsbG8=\"}]}");
    assertEquals(202, r.statusCode());
    JsonNode body = json(r);
    assertEquals("corr-9", body.get("correlation_id").asText());

    var entries = Streams.all(fx.probe, fx.inbound());
    assertEquals(1, entries.size());
    assertEquals(body.get("stream_id").asText(), entries.get(0).getId());
    InboundEnvelope in = fx.probe.codec().decode(entries.get(0).getBody().get("data"), InboundEnvelope.class);
    assertEquals(body.get("id").asText(), in.id());
    assertEquals("web", in.platform());
    assertEquals("c1", in.channelId());
    assertEquals("hi", in.content());
    assertEquals("hello", new String(in.attachments().get(0).data()));
  }

  @Test
  void postWithWaitReturnsTheEcho() throws Exception {
    GatewayNode gw = fx.gateway();
    fx.echoWorker("w1");
    HttpResponse<String> r = fx.post(gw, "/v1/messages?wait=10", message("c2", "ping"));
    assertEquals(200, r.statusCode());
    JsonNode body = json(r);
    assertEquals("ping", body.get("content").asText());
    assertEquals("message", body.get("type").asText());
    assertEquals("c2", body.get("channel_id").asText());
    assertEquals(body.get("correlation_id").asText(), body.get("in_reply_to").asText());
    assertTrue(body.get("stream_id").asText().matches("\\d+-\\d+"));
    assertEquals(0, gw.waitingRequests());
  }

  @Test
  void waitWithoutWorkerTimesOutWith504() throws Exception {
    GatewayNode gw = fx.gateway();
    HttpResponse<String> r = fx.post(gw, "/v1/messages?wait=0.5", message("c3", "nobody home"));
    assertEquals(504, r.statusCode());
    JsonNode body = json(r);
    assertEquals("reply_timeout", body.get("error").get("code").asText());
    assertTrue(!body.get("id").asText().isEmpty());
    assertEquals(1, Streams.length(fx.probe, fx.inbound()));
    assertEquals(0, gw.waitingRequests());
  }

  @Test
  void twoGatewayNodesEachDeliverRepliesToTheirOwnClients() throws Exception {
    GatewayNode a = fx.gateway("gw-a");
    GatewayNode b = fx.gateway("gw-b");
    fx.echoWorker("w1");
    HttpResponse<String> ra = fx.post(a, "/v1/messages?wait=10", message("c4", "to-a"));
    HttpResponse<String> rb = fx.post(b, "/v1/messages?wait=10", message("c4", "to-b"));
    assertEquals(200, ra.statusCode());
    assertEquals("to-a", json(ra).get("content").asText());
    assertEquals(200, rb.statusCode());
    assertEquals("to-b", json(rb).get("content").asText());
  }

  @Test
  void opsRoutesAreOnTheAdminPortAnd404And405() throws Exception {
    GatewayNode gw = fx.gateway();
    assertEquals(200, fx.get(gw, "/health", Map.of()).statusCode());
    // the public port answers /health and the client API only
    for (String ops : new String[] {"/ready", "/metrics"}) {
      HttpResponse<String> r = fx.get(gw, ops, Map.of());
      assertEquals(404, r.statusCode(), ops + " on the public port: " + r.body());
      assertEquals("not_found", json(r).get("error").get("code").asText());
    }
    assertTrue(gw.adminPort() != null && gw.adminPort() != gw.port());
    assertEquals(200, fx.admin(gw, "/health").statusCode());
    HttpResponse<String> ready = fx.admin(gw, "/ready");
    assertEquals(200, ready.statusCode());
    assertTrue(json(ready).get("checks").get("outbound_readers").asBoolean());
    fx.post(gw, "/v1/messages", message("c5", "count me"));
    HttpResponse<String> metrics = fx.admin(gw, "/metrics");
    assertTrue(metrics.body().contains("sg_gateway_requests_total{route=\"/v1/messages\",status=\"202\"}"), metrics.body());
    assertTrue(metrics.body().contains("sg_gateway_waiting_requests"), metrics.body());

    HttpResponse<String> nf = fx.get(gw, "/nope", Map.of());
    assertEquals(404, nf.statusCode());
    assertEquals("not_found", json(nf).get("error").get("code").asText());
    HttpResponse<String> na = fx.get(gw, "/v1/messages", Map.of());
    assertEquals(405, na.statusCode());
    assertEquals("method_not_allowed", json(na).get("error").get("code").asText());
  }
}
