package io.sgstreams.bench;

import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Encode and decode of the two envelopes every round trip carries: the inbound request (gateway encodes,
 * worker decodes) and the outbound reply (worker encodes, gateway decodes). Run with {@code -prof gc} for
 * bytes allocated per operation ({@code gc.alloc.rate.norm}), which matters as much as ns/op at 40k
 * round trips per second.
 *
 * <p>Each benchmark returns its result so JMH sinks it (no dead-code elimination).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class EnvelopeCodecBenchmark {

    /** plain: 256-byte content; rich: plus a traceparent header and a 1 KiB attachment. */
    @Param({"plain", "rich"})
    public String shape;

    private final EnvelopeCodec codec = EnvelopeCodec.create();
    private InboundEnvelope inbound;
    private OutboundEnvelope outbound;
    private byte[] inboundBytes;
    private byte[] outboundBytes;

    /** Builds the envelopes and their encodings once, and checks that they survive a round trip. */
    @Setup(Level.Trial)
    public void setUp() {
        Fixtures.Shape s = Fixtures.Shape.valueOf(shape);
        inbound = Fixtures.inbound(s);
        outbound = Fixtures.outbound(inbound, s);
        inboundBytes = codec.encode(inbound);
        outboundBytes = codec.encode(outbound);
        // A benchmark of a broken codec is worthless: fail the trial rather than report numbers.
        if (!inbound.equals(codec.decode(inboundBytes, InboundEnvelope.class))
                || !outbound.equals(codec.decode(outboundBytes, OutboundEnvelope.class))) {
            throw new IllegalStateException("codec round trip changed the envelope (shape " + shape + ")");
        }
    }

    /** Gateway side: serialise the request before XADD. */
    @Benchmark
    public byte[] encodeInbound() {
        return codec.encode(inbound);
    }

    /** Worker side: parse the request read by XREADGROUP. */
    @Benchmark
    public InboundEnvelope decodeInbound() {
        return codec.decode(inboundBytes, InboundEnvelope.class);
    }

    /** Worker side: serialise the reply before XADD. */
    @Benchmark
    public byte[] encodeOutbound() {
        return codec.encode(outbound);
    }

    /** Gateway side: parse the reply and match it by correlation id. */
    @Benchmark
    public OutboundEnvelope decodeOutbound() {
        return codec.decode(outboundBytes, OutboundEnvelope.class);
    }

    /** Encoded size in bytes of the inbound envelope (printed by {@link #main}; not a benchmark). */
    int inboundSize() {
        return inboundBytes.length;
    }

    /** Encoded size in bytes of the outbound envelope. */
    int outboundSize() {
        return outboundBytes.length;
    }

    /** Prints the encoded sizes of both shapes, to read B/op against. */
    public static void main(String[] args) {
        for (String s : new String[] {"plain", "rich"}) {
            EnvelopeCodecBenchmark b = new EnvelopeCodecBenchmark();
            b.shape = s;
            b.setUp();
            System.out.println(s + ": inbound " + b.inboundSize() + " B, outbound " + b.outboundSize() + " B");
        }
    }
}
