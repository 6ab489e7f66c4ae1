package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.msgpack.value.Value;
import org.msgpack.value.ValueFactory;

class EnvelopeRoundTripTest {
    private static final EnvelopeCodec CODEC = EnvelopeCodec.create();

    static <T extends Envelope> T roundTrip(T e) {
        byte[] bytes = CODEC.encode(e);
        @SuppressWarnings("unchecked")
        T back = (T) CODEC.decode(bytes, e.getClass());
        assertEquals(e, back);
        assertEquals(e.hashCode(), back.hashCode());
        assertArrayEquals(bytes, CODEC.encode(back), "encoding is deterministic");
        return back;
    }

    static byte[] allBytes() {
        byte[] b = new byte[256];
        for (int i = 0; i < 256; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    static Map<String, Object> nestedMetadata() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("list", List.of(1, "two", 3.5, true));
        inner.put("nil", null);
        inner.put("bytes", new byte[] {0, 1, 2, (byte) 0xff});
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("locale", "en-GB");
        m.put("count", 3);                       // Integer -> Long
        m.put("ratio", 0.5f);                    // Float -> Double
        m.put("big", new BigInteger("18446744073709551615"));
        m.put("min", Long.MIN_VALUE);
        m.put("inner", inner);
        m.put("array", new int[] {1, 2, 3});     // primitive array -> list
        m.put("set", new java.util.TreeSet<>(List.of("a", "b")));
        return m;
    }

    static InboundEnvelope fullInbound() {
        return new InboundEnvelope(1, Ids.newId(), "corr-1", "webhook", "chan-42", null, 1_720_000_000_000L,
                1_720_000_030_000L, Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
                "user-9", "see attached",
                List.of(new Attachment("all.bin", "application/octet-stream", allBytes()),
                        new Attachment("empty.txt", "text/plain", new byte[0])),
                "sg:sync:reply:abc", nestedMetadata(), null);
    }

    @Test
    void inboundMinimal() {
        InboundEnvelope in = InboundEnvelope.create("web", "chan-1", "user-1", "hello");
        InboundEnvelope back = roundTrip(in);
        assertNull(back.deadline());
        assertTrue(back.headers().isEmpty());
        assertTrue(back.attachments().isEmpty());
        assertTrue(back.metadata().isEmpty());
        assertTrue(back.extra().isEmpty());
        assertEquals(Kind.INBOUND, back.kind());
    }

    @Test
    void inboundFull() {
        InboundEnvelope back = roundTrip(fullInbound());
        assertArrayEquals(allBytes(), back.attachments().get(0).data());
        assertEquals(0, back.attachments().get(1).data().length);
        Map<String, Object> md = back.metadata();
        assertEquals(3L, md.get("count"));
        assertEquals(0.5d, md.get("ratio"));
        assertEquals(new BigInteger("18446744073709551615"), md.get("big"));
        assertEquals(Long.MIN_VALUE, md.get("min"));
        assertEquals(List.of(1L, 2L, 3L), md.get("array"));
        assertEquals(List.of("a", "b"), md.get("set"));
        @SuppressWarnings("unchecked")
        Map<String, Object> inner = (Map<String, Object>) md.get("inner");
        assertEquals(List.of(1L, "two", 3.5d, true), inner.get("list"));
        assertTrue(inner.containsKey("nil"));
        assertNull(inner.get("nil"));
        assertArrayEquals(new byte[] {0, 1, 2, (byte) 0xff}, (byte[]) inner.get("bytes"));
        assertEquals(List.of("locale", "count", "ratio", "big", "min", "inner", "array", "set"),
                new ArrayList<>(md.keySet()), "metadata keeps its order");
    }

    @Test
    void outboundReplyAndMessageKey() {
        InboundEnvelope in = fullInbound().withHeader("x-tenant", "acme");
        OutboundEnvelope out = OutboundEnvelope.replyTo(in, "message", "hello back");
        assertEquals(in.correlationId(), out.correlationId());
        assertEquals(in.platform(), out.platform());
        assertEquals(in.channelId(), out.channelId());
        assertEquals(in.enqueuedAt(), out.enqueuedAt());
        assertEquals(in.deadline(), out.deadline());
        assertEquals(in.headers(), out.headers());
        assertEquals(in.id(), out.inReplyTo());
        assertEquals(in.id() + ":message", out.messageKey());
        assertNotEquals(in.id(), out.id());

        OutboundEnvelope retried = OutboundEnvelope.replyTo(in, "message", "hello back");
        assertEquals(out.messageKey(), retried.messageKey(), "a retried handler produces the same key");
        assertNotEquals(out.id(), retried.id());
        assertEquals(in.id() + ":message:2", OutboundEnvelope.replyTo(in, "message", "more", 2).messageKey());
        assertEquals(in.id() + ":error", OutboundEnvelope.replyTo(in, "error", "oops").messageKey());

        roundTrip(out);
        roundTrip(out.withAttachments(List.of(new Attachment("a.png", "image/png", allBytes()))));
    }

    @Test
    void outboundWithoutMessageKeyDefaultsToInReplyTo() {
        OutboundEnvelope out = new OutboundEnvelope(1, "id-2", "c", "web", "ch", null, 5L, null, null, "message", "id-1",
                "", null, null, null, null, null, null);
        assertEquals("id-1", out.messageKey());
        byte[] bytes = Mp.outbound().bytes(); // no message_key on the wire
        assertEquals("id-1", CODEC.decode(bytes, OutboundEnvelope.class).messageKey());
    }

    @Test
    void optionalKeysSetToNilReadAsAbsent() {
        InboundEnvelope in = CODEC.decode(Mp.inbound().put("deadline", null).put("headers", null)
                .put("attachments", null).put("reply_to", null).put("metadata", null).bytes(), InboundEnvelope.class);
        assertEquals(CODEC.decode(Mp.inbound().bytes()), in);
        OutboundEnvelope out = CODEC.decode(Mp.outbound().put("message_key", null).bytes(), OutboundEnvelope.class);
        assertEquals(out.inReplyTo(), out.messageKey());
        ToolRequest req = CODEC.decode(Mp.toolRequest().put("platform", null).put("channel_id", null).bytes(),
                ToolRequest.class);
        assertNull(req.platform());
        ToolReply rep = CODEC.decode(Mp.toolReply().put("error", null).bytes(), ToolReply.class);
        assertNull(rep.error());
        // a nil-valued key of another kind stays an unknown key
        InboundEnvelope other = CODEC.decode(Mp.inbound().put("result", null).bytes(), InboundEnvelope.class);
        assertTrue(other.extra().get("result").isNilValue());
        assertThrows(MalformedEnvelopeException.class,
                () -> CODEC.decode(Mp.inbound().put("deadline", null).add("deadline", 5).bytes()));
    }

    @Test
    void toolRequestAndReplies() {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("query", "redis");
        args.put("limit", 10);
        args.put("filters", Map.of("lang", List.of("en")));
        ToolRequest req = ToolRequest.create("search", args, "sg:stream:tools:reply:w1", 1_720_000_030_000L)
                .withContext("web", "chan-1").withHeader("traceparent", "tp");
        assertEquals(req.id(), req.correlationId());
        ToolRequest back = roundTrip(req);
        assertEquals(10L, back.args().get("limit"));

        roundTrip(ToolRequest.create("noop", null, "r", null));

        ToolReply ok = ToolReply.success(req, Map.of("hits", List.of(Map.of("t", "Redis")), "total", 1));
        assertEquals(req.correlationId(), ok.correlationId());
        assertEquals(req.enqueuedAt(), ok.enqueuedAt());
        assertEquals(req.deadline(), ok.deadline());
        assertEquals(req.headers(), ok.headers());
        roundTrip(ok);

        ToolReply failed = ToolReply.failure(req, "timeout", "backend slow");
        ToolReply fb = roundTrip(failed);
        assertFalse(fb.ok());
        assertEquals(new ToolError("timeout", "backend slow"), fb.error());
        assertNull(fb.result());
    }

    @Test
    void toolReplyResultShapes() {
        ToolRequest req = ToolRequest.create("t", Map.of(), "r", null);
        for (Object result : new Object[] {null, "text", 42, -1.25, true, new byte[] {9, 8, 7}, List.of(),
                Map.of(), List.of(new byte[] {1}, Map.of("k", List.of()))}) {
            ToolReply back = roundTrip(ToolReply.success(req, result));
            if (result instanceof byte[] b) {
                assertArrayEquals(b, (byte[]) back.result());
            }
        }
        // ok=true always writes result, as nil when null; ok=false only when set
        assertTrue(Mp.topLevel(CODEC.encode(ToolReply.success(req, null))).get("result").isNilValue());
        assertFalse(Mp.topLevel(CODEC.encode(ToolReply.failure(req, "c", "m"))).containsKey("result"));
    }

    @Test
    void optionalKeysAreOmittedNotNil() {
        InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "x");
        Map<String, Value> top = Mp.topLevel(CODEC.encode(in));
        assertEquals(List.of("v", "id", "kind", "correlation_id", "platform", "channel_id", "enqueued_at",
                "user_id", "content"), new ArrayList<>(top.keySet()));
        for (Value v : top.values()) {
            assertFalse(v.isNilValue());
        }
        Map<String, Value> full = Mp.topLevel(CODEC.encode(fullInbound()));
        assertEquals(List.of("v", "id", "kind", "correlation_id", "platform", "channel_id", "enqueued_at",
                "deadline", "headers", "user_id", "content", "attachments", "reply_to", "metadata"),
                new ArrayList<>(full.keySet()));
        assertTrue(full.get("attachments").asArrayValue().get(0).asMapValue().map()
                .get(ValueFactory.newString("data")).isBinaryValue());

        ToolRequest req = ToolRequest.create("t", null, "r", null);
        Map<String, Value> tr = Mp.topLevel(CODEC.encode(req));
        assertFalse(tr.containsKey("platform"));
        assertFalse(tr.containsKey("deadline"));
        assertTrue(tr.get("args").isMapValue(), "args is required, written even when empty");
    }

    @Test
    void headersAndDeadlinePresentAndAbsent() {
        InboundEnvelope base = InboundEnvelope.create("web", "c", "u", "x");
        for (Long deadline : new Long[] {null, 0L, -1L, Long.MAX_VALUE}) {
            for (Map<String, String> headers : List.of(Map.<String, String>of(), Map.of("traceparent", "tp"),
                    Map.of("a", "", "b", "é"))) {
                InboundEnvelope back = roundTrip(base.withDeadline(deadline).withHeaders(headers));
                assertEquals(deadline, back.deadline());
                assertEquals(headers, back.headers());
            }
        }
    }

    @Test
    void unknownKeysArePreservedByteForByte() {
        Mp.Raw int32Five = Mp.raw("d2 00000005");          // non-minimal int
        Mp.Raw float32 = Mp.raw("ca 3fc00000");            // 1.5f
        Mp.Raw timestamp = Mp.raw("d6 ff 66851e80");       // timestamp32 ext
        Mp.Raw ext = Mp.raw("c7 03 05 010203");            // ext8 with 3 bytes (fixext would be shorter)
        Mp.Raw nested = Mp.raw(Mp.pack(Map.of("a", List.of(1, Map.of("b", "c")))));
        byte[] input = Mp.inbound().copy()
                .put("x_int", int32Five).put("x_f32", float32).put("x_ts", timestamp).put("x_ext", ext)
                .put("x_nested", nested).put("tool", "not for inbound").bytes();
        InboundEnvelope in = CODEC.decode(input, InboundEnvelope.class);
        assertEquals(List.of("x_int", "x_f32", "x_ts", "x_ext", "x_nested", "tool"),
                new ArrayList<>(in.extra().keySet()));
        assertEquals(5, in.extra().get("x_int").asIntegerValue().asInt());
        assertEquals("not for inbound", in.extra().get("tool").asStringValue().asString());

        byte[] again = CODEC.encode(in);
        assertArrayEquals(input, again, "known keys in canonical order, unknown ones verbatim");
        InboundEnvelope back = CODEC.decode(again, InboundEnvelope.class);
        assertEquals(in, back);
        ExtraFields ef = (ExtraFields) back.extra();
        assertArrayEquals(int32Five.bytes(), ef.rawAt(0));
        assertArrayEquals(float32.bytes(), ef.rawAt(1));
        assertArrayEquals(timestamp.bytes(), ef.rawAt(2));
        assertArrayEquals(ext.bytes(), ef.rawAt(3));
        assertArrayEquals(nested.bytes(), ef.rawAt(4));

        // forwarding keeps the unknown keys: a with* copy carries them along
        InboundEnvelope forwarded = back.withCorrelationId("other");
        assertSame(back.extra(), forwarded.extra());
        assertEquals(Mp.hex(int32Five.bytes()),
                Mp.hex(((ExtraFields) CODEC.decode(CODEC.encode(forwarded)).extra()).rawAt(0)));
    }

    @Test
    void userSuppliedExtraIsPacked() {
        Map<String, Value> extra = new LinkedHashMap<>();
        extra.put("x_s", ValueFactory.newString("y"));
        extra.put("x_a", ValueFactory.newArray(ValueFactory.newInteger(1), ValueFactory.newNil()));
        InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "x").withExtra(extra);
        InboundEnvelope back = roundTrip(in);
        assertEquals(extra, back.extra());
        assertThrows(IllegalArgumentException.class,
                () -> in.withExtra(Map.of("content", ValueFactory.newString("clash"))));
        // a key another kind defines is fine as an unknown key
        roundTrip(in.withExtra(Map.of("tool", ValueFactory.newString("t"))));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 31, 32, 255, 256, 511, 512, 8191, 8192, 65535, 65536, 200_000})
    void stringAndBinarySizes(int n) {
        Random r = new Random(n);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(10);
            sb.append(c < 7 ? (char) ('a' + r.nextInt(26)) : c < 9 ? 'é' : '\u4F60');
        }
        byte[] blob = new byte[n];
        r.nextBytes(blob);
        InboundEnvelope in = new InboundEnvelope(1, "id", "c", "web", "ch", null, 1L, null, null, "u", sb.toString(),
                List.of(new Attachment("a", "b", blob), new Attachment("small", "b", new byte[] {1})), null,
                Map.of("s", sb.toString()), null);
        roundTrip(in);
    }

    @Test
    void tooLargeOnEncode() {
        EnvelopeCodec small = EnvelopeCodec.create(256);
        InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "x".repeat(300));
        EnvelopeTooLargeException e = assertThrows(EnvelopeTooLargeException.class, () -> small.encode(in));
        assertEquals(256, e.max());
        assertEquals(CODEC.encode(in).length, e.size());
        assertEquals("too_large", e.reason());
        // exactly at the limit is fine
        byte[] ok = CODEC.encode(in);
        assertArrayEquals(ok, EnvelopeCodec.create(ok.length).encode(in));
        assertEquals(in, EnvelopeCodec.create(ok.length).decode(ok));
    }

    @Test
    void codecIsSharedSafely() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 2000; i++) {
                        InboundEnvelope in = InboundEnvelope.create("web", "c" + i, "u", "content " + i)
                                .withMetadata(Map.of("i", i));
                        assertEquals(in, CODEC.decode(CODEC.encode(in)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void decodeAsAnyEnvelope() {
        byte[] bytes = CODEC.encode(InboundEnvelope.create("web", "c", "u", "x"));
        assertInstanceOf(InboundEnvelope.class, CODEC.decode(bytes, Envelope.class));
        assertSame(EnvelopeCodec.create(), EnvelopeCodec.create(EnvelopeCodec.DEFAULT_MAX_BYTES));
        assertEquals(EnvelopeCodec.DEFAULT_MAX_BYTES, EnvelopeCodec.create().maxBytes());
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.create(0));
    }
}
