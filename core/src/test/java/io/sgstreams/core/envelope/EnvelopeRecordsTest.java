package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.msgpack.value.ValueFactory;

class EnvelopeRecordsTest {

    private static InboundEnvelope inbound(String id, String corr, String platform, String channel, String user,
            String content) {
        return new InboundEnvelope(1, id, corr, platform, channel, null, 1L, null, null, user, content, null, null, null,
                null);
    }

    private static void assertMessage(Class<? extends Throwable> type, String part, Runnable r) {
        Throwable t = assertThrows(type, r::run);
        assertTrue(t.getMessage().contains(part), () -> "expected '" + part + "' in: " + t.getMessage());
    }

    @Test
    void inboundRequiredFields() {
        assertMessage(NullPointerException.class, "id", () -> inbound(null, "c", "p", "ch", "u", "x"));
        assertMessage(IllegalArgumentException.class, "id", () -> inbound("", "c", "p", "ch", "u", "x"));
        assertMessage(NullPointerException.class, "correlationId", () -> inbound("i", null, "p", "ch", "u", "x"));
        assertMessage(NullPointerException.class, "platform", () -> inbound("i", "c", null, "ch", "u", "x"));
        assertMessage(IllegalArgumentException.class, "platform", () -> inbound("i", "c", "", "ch", "u", "x"));
        assertMessage(NullPointerException.class, "channelId", () -> inbound("i", "c", "p", null, "u", "x"));
        assertMessage(IllegalArgumentException.class, "channelId", () -> inbound("i", "c", "p", "", "u", "x"));
        assertMessage(NullPointerException.class, "userId", () -> inbound("i", "c", "p", "ch", null, "x"));
        assertMessage(NullPointerException.class, "content", () -> inbound("i", "c", "p", "ch", "u", null));
        assertMessage(IllegalArgumentException.class, "v must be >= 1",
                () -> new InboundEnvelope(0, "i", "c", "p", "ch", null, 1L, null, null, "u", "x", null, null, null, null));
        inbound("i", "c", "p", "ch", "", ""); // empty user id and content are allowed
    }

    @Test
    void otherKindsRequiredFields() {
        assertMessage(IllegalArgumentException.class, "type", () -> new OutboundEnvelope(1, "i", "c", "p", "ch", null, 1L,
                null, null, "", "in", "x", null, null, null, null, null, null));
        assertMessage(NullPointerException.class, "inReplyTo", () -> new OutboundEnvelope(1, "i", "c", "p", "ch", null,
                1L, null, null, "message", null, "x", null, null, null, null, null, null));
        assertMessage(IllegalArgumentException.class, "messageKey", () -> new OutboundEnvelope(1, "i", "c", "p",
                "ch", null, 1L, null, null, "message", "in", "x", null, "", null, null, null, null));
        assertMessage(NullPointerException.class, "tool", () -> new ToolRequest(1, "i", "c", null, null, 1L, null,
                null, null, null, "r", null));
        assertMessage(NullPointerException.class, "replyTo", () -> new ToolRequest(1, "i", "c", null, null, 1L,
                null, null, "t", null, null, null));
        assertMessage(IllegalArgumentException.class, "error", () -> new ToolReply(1, "i", "c", null, null, 1L,
                null, null, false, null, null, null));
        assertMessage(IllegalArgumentException.class, "error code", () -> new ToolError("", "m"));
        assertMessage(NullPointerException.class, "attachment data", () -> new Attachment("n", "m", null));
        // tool kinds: platform/channel optional, may even be empty
        new ToolRequest(1, "i", "c", "", "", 1L, null, null, "t", null, "r", null);
    }

    @Test
    void nullCollectionsBecomeEmptyAndEverythingIsUnmodifiable() {
        InboundEnvelope in = inbound("i", "c", "p", "ch", "u", "x");
        assertTrue(in.headers().isEmpty());
        assertTrue(in.attachments().isEmpty());
        assertTrue(in.metadata().isEmpty());
        assertTrue(in.extra().isEmpty());
        assertThrows(UnsupportedOperationException.class, () -> in.headers().put("a", "b"));
        assertThrows(UnsupportedOperationException.class, () -> in.metadata().put("a", "b"));
        assertThrows(UnsupportedOperationException.class, () -> in.extra().put("a", ValueFactory.newNil()));

        Map<String, Object> md = new HashMap<>();
        List<Object> list = new ArrayList<>(List.of(1));
        md.put("l", list);
        InboundEnvelope withMd = in.withMetadata(md);
        list.add(2); // later changes to the caller's objects do not leak in
        md.put("other", 1);
        assertEquals(Map.of("l", List.of(1L)), withMd.metadata());
        assertThrows(UnsupportedOperationException.class, () -> ((List<?>) withMd.metadata().get("l")).add(null));

        assertMessage(IllegalArgumentException.class, "headers", () -> in.withHeaders(nullValueMap()));
        List<Attachment> withNull = new ArrayList<>();
        withNull.add(null);
        assertMessage(NullPointerException.class, "attachments[0]", () -> in.withAttachments(withNull));
    }

    private static Map<String, String> nullValueMap() {
        Map<String, String> m = new HashMap<>();
        m.put("a", null);
        return m;
    }

    @Test
    void freeFormConversion() {
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("i", 1);
        md.put("s", (short) 2);
        md.put("b", (byte) 3);
        md.put("f", 1.5f);
        md.put("bd", new BigDecimal("10"));
        md.put("bd2", new BigDecimal("0.25"));
        md.put("bi", BigInteger.valueOf(7));
        md.put("arr", new Object[] {"a", 1});
        md.put("longs", new long[] {5L});
        md.put("nil", null);
        InboundEnvelope in = inbound("i", "c", "p", "ch", "u", "x").withMetadata(md);
        Map<String, Object> m = in.metadata();
        assertEquals(1L, m.get("i"));
        assertEquals(2L, m.get("s"));
        assertEquals(3L, m.get("b"));
        assertEquals(1.5d, m.get("f"));
        assertEquals(10L, m.get("bd"));
        assertEquals(0.25d, m.get("bd2"));
        assertEquals(7L, m.get("bi"));
        assertEquals(List.of("a", 1L), m.get("arr"));
        assertEquals(List.of(5L), m.get("longs"));
        assertTrue(m.containsKey("nil"));
        assertEquals(new ArrayList<>(md.keySet()), new ArrayList<>(m.keySet()));

        InboundEnvelope base = inbound("i", "c", "p", "ch", "u", "x");
        assertMessage(IllegalArgumentException.class, "java.time.Instant",
                () -> base.withMetadata(Map.of("t", Instant.EPOCH)));
        assertMessage(IllegalArgumentException.class, "java.lang.Object",
                () -> base.withMetadata(Map.of("o", List.of(new Object()))));
        assertMessage(IllegalArgumentException.class, "must be String",
                () -> base.withMetadata(Map.of("m", Map.of(1, "x"))));
        assertMessage(IllegalArgumentException.class, "outside the MessagePack range",
                () -> base.withMetadata(Map.of("big", BigInteger.ONE.shiftLeft(64))));
        Map<String, Object> cyclic = new HashMap<>();
        cyclic.put("self", cyclic);
        assertMessage(IllegalArgumentException.class, "nested deeper than 64", () -> base.withMetadata(cyclic));
        assertMessage(IllegalArgumentException.class, "unsupported value type",
                () -> ToolRequest.create("t", Map.of("c", 'c'), "r", null));
    }

    @Test
    void recordEqualityByContent() {
        Attachment a = new Attachment("n", "m", new byte[] {1, 2});
        Attachment b = new Attachment("n", "m", new byte[] {1, 2});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new Attachment("n", "m", new byte[] {1, 3}));
        assertEquals("Attachment[name=n, mime=m, data=<2 bytes>]", a.toString());

        InboundEnvelope x = inbound("i", "c", "p", "ch", "u", "x").withMetadata(Map.of("b", new byte[] {1}));
        InboundEnvelope y = inbound("i", "c", "p", "ch", "u", "x").withMetadata(Map.of("b", new byte[] {1}));
        assertEquals(x, y);
        assertEquals(x.hashCode(), y.hashCode());
        assertTrue(x.toString().contains("<1 bytes>"));

        ToolRequest req = ToolRequest.create("t", null, "r", null);
        ToolReply r1 = ToolReply.success(req, new byte[] {4, 5});
        ToolReply r2 = new ToolReply(1, r1.id(), r1.correlationId(), null, null, r1.enqueuedAt(), null, null, true,
                new byte[] {4, 5}, null, null);
        assertEquals(r1, r2);
        assertEquals(r1.hashCode(), r2.hashCode());
        assertNotEquals(r1, ToolReply.success(req, new byte[] {4, 6}));
    }

    @Test
    void factoriesAndCopies() {
        long before = System.currentTimeMillis();
        InboundEnvelope in = InboundEnvelope.create("web", "ch", "u", "hi");
        long after = System.currentTimeMillis();
        assertEquals(in.id(), in.correlationId());
        assertEquals(Envelope.SCHEMA_VERSION, in.v());
        // the id's timestamp and enqueued_at are two reads of the clock during create(): both lie
        // between the reads around it, the id's first (not "within 5 ms": a pause in between is legal)
        long idMillis = Ids.timestampMillis(in.id());
        assertTrue(before <= idMillis && idMillis <= in.enqueuedAt() && in.enqueuedAt() <= after,
            "id " + idMillis + ", enqueued_at " + in.enqueuedAt() + ", create() ran within [" + before + ", " + after + "]");

        InboundEnvelope c = in.withCorrelationId("client").withDeadline(99L).withReplyTo("sg:reply:x")
                .withHeader("traceparent", "tp").withAttachments(List.of(new Attachment("a", "b", new byte[0])));
        assertEquals("client", c.correlationId());
        assertEquals(99L, c.deadline());
        assertEquals("sg:reply:x", c.replyTo());
        assertEquals(Map.of("traceparent", "tp"), c.headers());
        assertEquals(1, c.attachments().size());
        assertEquals(in.id(), c.id());
        assertTrue(c.isExpired(100L));
        assertFalse(c.isExpired(99L));
        assertFalse(in.isExpired(Long.MAX_VALUE));
        assertSame(c.headers(), c.withDeadline(null).headers(), "frozen maps are not copied again");

        ToolRequest req = ToolRequest.create("search", Map.of("q", "x"), "sg:stream:tools:reply:w1", 123L);
        assertEquals(req.id(), req.correlationId());
        assertNull(req.platform());
        assertEquals(123L, req.deadline());
        ToolReply failed = ToolReply.failure(req.withCorrelationId("corr"), "bad_args", "q missing");
        assertEquals("corr", failed.correlationId());
        assertFalse(failed.ok());
        assertEquals("bad_args", failed.error().code());
    }

    @Test
    void kindWireNames() {
        for (Kind k : Kind.values()) {
            assertSame(k, Kind.fromWire(k.wire()));
        }
        assertEquals("tool_request", Kind.TOOL_REQUEST.wire());
        assertThrows(MalformedEnvelopeException.class, () -> Kind.fromWire("Inbound"));
        assertThrows(MalformedEnvelopeException.class, () -> Kind.fromWire(null));
    }

    @Test
    void exceptionReasons() {
        assertEquals("malformed", new MalformedEnvelopeException("x").reason());
        UnsupportedVersionException u = new UnsupportedVersionException(2);
        assertEquals(2, u.version());
        assertEquals("unsupported_version", u.reason());
        EnvelopeTooLargeException t = new EnvelopeTooLargeException(10, 5);
        assertEquals("too_large", t.reason());
        assertEquals("envelope is 10 bytes, more than the limit of 5 bytes", t.getMessage());
    }
}
