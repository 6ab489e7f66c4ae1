package io.sgstreams.bench;

import io.sgstreams.core.envelope.Attachment;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Realistic envelopes for the benchmarks, built once per trial. A fixed seed keeps runs comparable: the same
 * bytes are encoded and decoded every time.
 */
final class Fixtures {
    /** The {@code sg bench} default payload: {@code content} of this many bytes. */
    static final int CONTENT_BYTES = 256;
    /** Size of the binary attachment in the "rich" shape: a small thumbnail / voice-note snippet. */
    static final int ATTACHMENT_BYTES = 1024;
    /** A W3C trace context header value, as a gateway with tracing enabled would forward it. */
    static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private Fixtures() {
    }

    /** The message shapes benchmarked; names are the values of the JMH {@code shape} parameter. */
    enum Shape {
        /** 256-byte content, no headers, no attachments: what {@code sg bench} sends. */
        plain,
        /** As plain plus a {@code traceparent} header and one 1 KiB binary attachment. */
        rich
    }

    /** ASCII text of exactly {@code bytes} bytes (so characters = bytes, as in the round-trip benchmark). */
    static String content(int bytes, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        String alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,!?";
        StringBuilder sb = new StringBuilder(bytes);
        for (int i = 0; i < bytes; i++) {
            sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        String s = sb.toString();
        assert s.getBytes(StandardCharsets.UTF_8).length == bytes;
        return s;
    }

    /** An inbound envelope as a gateway publishes it for a chat message. */
    static InboundEnvelope inbound(Shape shape) {
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("locale", "en-GB");
        metadata.put("guild_id", "112233445566778899");
        metadata.put("retries", 0);
        InboundEnvelope in = InboundEnvelope.create("discord", "channel-1234567890", "user-987654321",
                        content(CONTENT_BYTES, 42))
                .withDeadline(System.currentTimeMillis() + 30_000)
                .withReplyTo("sg:bench:outbound")
                .withMetadata(metadata);
        if (shape == Shape.rich) {
            byte[] data = new byte[ATTACHMENT_BYTES];
            new SplittableRandom(7).nextBytes(data);
            in = in.withHeader("traceparent", TRACEPARENT)
                    .withAttachments(List.of(new Attachment("thumb.png", "image/png", data)));
        }
        return in;
    }

    /** The echo worker's reply to {@code in}: same content, headers (traceparent) carried over. */
    static OutboundEnvelope outbound(InboundEnvelope in, Shape shape) {
        OutboundEnvelope out = OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, in.content());
        if (shape == Shape.rich) {
            out = out.withAttachments(in.attachments());
        }
        return out;
    }
}
