package io.sgstreams.core.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TraceParentTest {
  private static final String VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  @Test
  void parsesAValidValueAndRejectsWhatTheSpecRejects() {
    TraceParent tp = TraceParent.parse(VALID);
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", tp.traceId());
    assertEquals("00f067aa0ba902b7", tp.parentId());
    assertEquals("01", tp.flags());
    assertEquals(VALID, tp.header());
    // a future version may append fields; it is read and written back as version 00
    assertEquals(VALID, TraceParent.parse("01" + VALID.substring(2) + "-what-ever").header());
    for (String bad : new String[] {null, "", "garbage", VALID + "-x", VALID.toUpperCase(), "ff" + VALID.substring(2),
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}) {
      assertNull(TraceParent.parse(bad), bad);
    }
  }

  @Test
  void aChildKeepsTheTraceAndFlagsWithANewSpan() {
    TraceParent tp = TraceParent.parse(VALID);
    TraceParent c = tp.child();
    assertEquals(tp.traceId(), c.traceId());
    assertEquals(tp.flags(), c.flags());
    assertNotEquals(tp.parentId(), c.parentId());
    assertEquals(c, TraceParent.parse(c.header()));
    TraceParent g = TraceParent.generate();
    assertEquals(g, TraceParent.parse(g.header()));
    assertNotEquals(g.traceId(), TraceParent.generate().traceId());
  }

  @Test
  void envelopesWithoutTheHeaderStillDecodeAndWithItRoundTrip() {
    EnvelopeCodec codec = EnvelopeCodec.create();
    InboundEnvelope plain = InboundEnvelope.create("web", "c", "u", "hi");
    InboundEnvelope back = codec.decode(codec.encode(plain), InboundEnvelope.class);
    assertEquals(plain, back);
    assertNull(TraceParent.from(back.headers()));
    assertNull(TraceParent.childOf(back.headers()), "no trace is invented mid-pipeline");

    TraceParent span = TraceParent.parse(VALID).child();
    InboundEnvelope traced = plain.withHeaders(TraceParent.withSpan(Map.of("k", "v"), span));
    InboundEnvelope decoded = codec.decode(codec.encode(traced), InboundEnvelope.class);
    assertEquals(traced, decoded);
    assertEquals(span, TraceParent.from(decoded.headers()));
    assertEquals("v", decoded.headers().get("k"));
    OutboundEnvelope reply = OutboundEnvelope.replyTo(decoded, "message", "hi");
    assertEquals(span.traceId(), TraceParent.from(reply.headers()).traceId(), "replies copy the headers");
    assertTrue(TraceParent.childOf(reply.headers()).traceId().equals(span.traceId()));
  }
}
