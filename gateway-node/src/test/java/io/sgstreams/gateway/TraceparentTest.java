package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.trace.TraceParent;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** W3C {@code traceparent} on {@code POST /v1/messages}: continued when valid, replaced when not, returned always. */
class TraceparentTest {
  private static final String CLIENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  @Test
  void aValidTraceparentIsContinuedWithTheGatewaysOwnSpan() throws Exception {
    GatewayNode gw = fx.gateway();
    HttpResponse<String> r = fx.post(gw, "/v1/messages", message("t1", "hi"), Map.of("traceparent", CLIENT));
    assertEquals(202, r.statusCode());
    TraceParent back = TraceParent.parse(r.headers().firstValue("traceparent").orElseThrow());
    assertNotNull(back, r.headers().toString());
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", back.traceId(), "same trace");
    assertNotEquals("00f067aa0ba902b7", back.parentId(), "the gateway's own span, not the client's");
    assertEquals("01", back.flags());

    var entry = Streams.all(fx.probe, fx.inbound()).get(0);
    InboundEnvelope in = fx.probe.codec().decode(entry.getBody().get("data"), InboundEnvelope.class);
    assertEquals(back.header(), in.headers().get("traceparent"), "the envelope carries the span the client was told");
    assertEquals(back.traceId(), new String(entry.getBody().get(StreamFields.TRACE_ID), StandardCharsets.US_ASCII));
  }

  @Test
  void anInvalidOrMissingTraceparentStartsANewTrace() throws Exception {
    GatewayNode gw = fx.gateway();
    String[] invalid = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // all-zero parent id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", // version 00 has no more fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01", // short trace id
        "garbage",
        null};
    for (String tp : invalid) {
      HttpResponse<String> r = fx.post(gw, "/v1/messages", message("t2", "hi"),
          tp == null ? Map.of() : Map.of("traceparent", tp));
      assertEquals(202, r.statusCode(), String.valueOf(tp));
      TraceParent back = TraceParent.parse(r.headers().firstValue("traceparent").orElseThrow());
      assertNotNull(back, String.valueOf(tp));
      assertNotEquals("4bf92f3577b34da6a3ce929d0e0e4736", back.traceId(), "a new trace for " + tp);
    }
  }

  @Test
  void theReplyToAWaitingRequestCarriesTheTrace() throws Exception {
    GatewayNode gw = fx.gateway();
    fx.echoWorker("w1");
    HttpResponse<String> r = fx.post(gw, "/v1/messages?wait=10", message("t3", "ping"), Map.of("traceparent", CLIENT));
    assertEquals(200, r.statusCode());
    TraceParent header = TraceParent.parse(r.headers().firstValue("traceparent").orElseThrow());
    TraceParent inBody = TraceParent.parse(json(r).get("traceparent").asText());
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", header.traceId());
    assertEquals(header.traceId(), inBody.traceId());
  }

  @Test
  void errorsCarryATraceparentToo() throws Exception {
    GatewayNode gw = fx.gateway();
    HttpResponse<String> r = fx.post(gw, "/v1/messages", "{\"content\":1}", Map.of("traceparent", CLIENT));
    assertEquals(400, r.statusCode());
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736",
        TraceParent.parse(r.headers().firstValue("traceparent").orElseThrow()).traceId());
  }
}
