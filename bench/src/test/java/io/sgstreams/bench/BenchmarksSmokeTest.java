package io.sgstreams.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs every benchmark method once outside JMH, so a core change that breaks the fixtures (or makes a
 * benchmark measure something else, such as an exception path) fails the build rather than a later JMH run.
 */
class BenchmarksSmokeTest {
    private final EnvelopeCodec codec = EnvelopeCodec.create();

    @ParameterizedTest
    @ValueSource(strings = {"plain", "rich"})
    void codecBenchmarksEncodeAndDecodeTheFixtures(String shape) {
        EnvelopeCodecBenchmark b = new EnvelopeCodecBenchmark();
        b.shape = shape;
        b.setUp(); // throws if decode(encode(e)) != e

        InboundEnvelope in = b.decodeInbound();
        OutboundEnvelope out = b.decodeOutbound();
        assertEquals(in, codec.decode(b.encodeInbound(), InboundEnvelope.class));
        assertEquals(out, codec.decode(b.encodeOutbound(), OutboundEnvelope.class));
        assertEquals(in.id(), out.inReplyTo(), "the outbound fixture is the reply to the inbound one");
        assertEquals(Fixtures.CONTENT_BYTES, in.content().getBytes(StandardCharsets.UTF_8).length);
        assertEquals(in.content(), out.content());
        if (shape.equals("rich")) {
            assertEquals(Fixtures.TRACEPARENT, in.headers().get("traceparent"));
            assertEquals(Fixtures.TRACEPARENT, out.headers().get("traceparent"), "headers flow into the reply");
            assertEquals(Fixtures.ATTACHMENT_BYTES, in.attachments().get(0).data().length);
            assertEquals(1, out.attachments().size());
        } else {
            assertTrue(in.headers().isEmpty());
            assertTrue(in.attachments().isEmpty());
        }
    }

    @Test
    void richEnvelopesAreLargerThanPlainOnes() {
        EnvelopeCodecBenchmark plain = new EnvelopeCodecBenchmark();
        plain.shape = "plain";
        plain.setUp();
        EnvelopeCodecBenchmark rich = new EnvelopeCodecBenchmark();
        rich.shape = "rich";
        rich.setUp();
        assertTrue(plain.inboundSize() > Fixtures.CONTENT_BYTES, "inbound " + plain.inboundSize());
        assertTrue(rich.inboundSize() > plain.inboundSize() + Fixtures.ATTACHMENT_BYTES,
                "rich " + rich.inboundSize() + " vs plain " + plain.inboundSize());
        assertTrue(rich.outboundSize() > plain.outboundSize() + Fixtures.ATTACHMENT_BYTES);
    }

    @Test
    void idBenchmarksProduceDistinctVersion7Ids() {
        IdBenchmark b = new IdBenchmark();
        String a = b.newId();
        String c = b.newId();
        assertNotEquals(a, c);
        assertEquals(36, a.length());
        assertEquals(7, UUID.fromString(a).version());
        assertEquals(7, b.newUuid().version());
    }
}
