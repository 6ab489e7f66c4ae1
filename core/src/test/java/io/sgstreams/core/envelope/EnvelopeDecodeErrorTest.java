package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EnvelopeDecodeErrorTest {
    private static final EnvelopeCodec CODEC = EnvelopeCodec.create();

    static MalformedEnvelopeException malformed(byte[] bytes) {
        return assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(bytes), () -> Mp.hex(bytes));
    }

    static void malformed(byte[] bytes, String messagePart) {
        MalformedEnvelopeException e = malformed(bytes);
        assertTrue(e.getMessage().contains(messagePart), () -> "expected '" + messagePart + "' in: " + e.getMessage());
        assertEquals("malformed", e.reason());
    }

    @Test
    void nullAndEmpty() {
        assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(null));
        malformed(new byte[0], "truncated MessagePack");
    }

    @Test
    void everyTruncationIsMalformed() {
        for (byte[] full : List.of(CODEC.encode(EnvelopeRoundTripTest.fullInbound()), Mp.toolRequest().bytes())) {
            for (int n = 1; n < full.length; n++) {
                byte[] cut = java.util.Arrays.copyOf(full, n);
                malformed(cut, "truncated MessagePack");
            }
        }
    }

    @Test
    void notAMap() {
        malformed(Mp.pack(List.of(1, 2)), "not a map");
        malformed(Mp.pack(1), "not a map");
        malformed(Mp.pack("inbound"), "not a map");
        malformed(Mp.pack(null), "not a map");
        malformed(Mp.pack(new byte[] {1}), "not a map");
        malformed(Mp.raw("c1").bytes(), "0xc1");
    }

    @Test
    void trailingBytes() {
        byte[] good = Mp.inbound().bytes();
        malformed(Mp.concat(good, new byte[] {(byte) 0xc0}), "trailing bytes after envelope");
        malformed(Mp.concat(good, good), "trailing bytes after envelope");
    }

    private static final Map<String, List<String>> REQUIRED = Map.of(
            "inbound", List.of("v", "id", "kind", "correlation_id", "platform", "channel_id", "enqueued_at",
                    "user_id", "content"),
            "outbound", List.of("v", "id", "kind", "correlation_id", "platform", "channel_id", "enqueued_at",
                    "type", "in_reply_to", "content"),
            "tool_request", List.of("v", "id", "kind", "correlation_id", "enqueued_at", "tool", "args", "reply_to"),
            "tool_reply", List.of("v", "id", "kind", "correlation_id", "enqueued_at", "ok"));

    private static Mp.Pairs base(String kind) {
        return switch (kind) {
            case "inbound" -> Mp.inbound();
            case "outbound" -> Mp.outbound();
            case "tool_request" -> Mp.toolRequest();
            case "tool_reply" -> Mp.toolReply();
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @TestFactory
    Stream<DynamicTest> missingEachRequiredKey() {
        List<DynamicTest> tests = new ArrayList<>();
        REQUIRED.forEach((kind, keys) -> {
            CODEC.decode(base(kind).bytes()); // the base is valid
            for (String key : keys) {
                tests.add(DynamicTest.dynamicTest(kind + " without " + key,
                        () -> malformed(base(kind).remove(key).bytes(), "missing required key '" + key + "'")));
            }
        });
        tests.add(DynamicTest.dynamicTest("tool_reply ok=false without error", () -> malformed(
                Mp.toolReply().put("ok", false).remove("result").bytes(), "missing required key 'error'")));
        tests.add(DynamicTest.dynamicTest("tool_reply ok=false with error nil", () -> malformed(
                Mp.toolReply().put("ok", false).put("error", null).bytes(), "key 'error' must be map, got nil")));
        return tests.stream();
    }

    /** kind, key, wrong value, expected message part. */
    private static final Object[][] WRONG = {
        {"inbound", "id", 7, "key 'id' must be str, got int"},
        {"inbound", "id", "", "key 'id' must not be empty"},
        {"inbound", "kind", 1, "key 'kind' must be str, got int"},
        {"inbound", "kind", "broadcast", "unknown kind 'broadcast'"},
        {"inbound", "correlation_id", null, "key 'correlation_id' must be str, got nil"},
        {"inbound", "correlation_id", "", "key 'correlation_id' must not be empty"},
        {"inbound", "platform", "", "key 'platform' must not be empty"},
        {"inbound", "platform", null, "key 'platform' must be str, got nil"},
        {"outbound", "channel_id", null, "key 'channel_id' must be str, got nil"},
        {"inbound", "user_id", null, "key 'user_id' must be str, got nil"},
        {"inbound", "enqueued_at", null, "key 'enqueued_at' must be int, got nil"},
        {"inbound", "v", null, "key 'v' must be int, got nil"},
        {"inbound", "platform", List.of(), "key 'platform' must be str, got array"},
        {"inbound", "channel_id", "chan".getBytes(), "key 'channel_id' must be str, got bin"},
        {"inbound", "channel_id", "", "key 'channel_id' must not be empty"},
        {"inbound", "enqueued_at", "1720000000000", "key 'enqueued_at' must be int, got str"},
        {"inbound", "enqueued_at", 1.72e12, "key 'enqueued_at' must be int, got float"},
        {"inbound", "enqueued_at", Mp.raw("cf ffffffffffffffff"), "key 'enqueued_at' is out of the int64 range"},
        {"inbound", "deadline", "soon", "key 'deadline' must be int, got str"},
        {"inbound", "headers", List.of("a"), "key 'headers' must be map, got array"},
        {"inbound", "headers", Map.of("x", 1), "key 'headers' must map str to str"},
        {"inbound", "headers", Map.of(1, "x"), "key 'headers' must map str to str"},
        {"inbound", "user_id", 9, "key 'user_id' must be str, got int"},
        {"inbound", "content", "hi".getBytes(), "key 'content' must be str, got bin"},
        {"inbound", "content", Mp.raw("a2 c328"), "key 'content' is not valid UTF-8"},
        // an encoded surrogate, an overlong NUL, a truncated sequence, a lone continuation byte
        {"inbound", "content", Mp.raw("a5 61eda08062"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a2 c080"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a3 41e282"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a1 80"), "key 'content' is not valid UTF-8"},
        // four-byte forms: above U+10FFFF, overlong, truncated, a byte that never starts a sequence
        {"inbound", "content", Mp.raw("a4 f4908080"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a4 f08fbfbf"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a3 f09f98"), "key 'content' is not valid UTF-8"},
        {"inbound", "content", Mp.raw("a1 f5"), "key 'content' is not valid UTF-8"},
        // malformed next to a U+FFFD that was sent: still malformed
        {"inbound", "content", Mp.raw("a5 efbfbdc328"), "key 'content' is not valid UTF-8"},
        {"inbound", "attachments", Map.of(), "key 'attachments' must be array, got map"},
        {"inbound", "attachments", List.of("x"), "key 'attachments[0]' must be map, got str"},
        {"inbound", "attachments", List.of(Map.of("name", "a", "mime", "b", "data", "abc")),
            "key 'attachments[0].data' must be bin, got str"},
        {"inbound", "attachments", List.of(Map.of("name", 1, "mime", "b", "data", new byte[0])),
            "key 'attachments[0].name' must be str, got int"},
        {"inbound", "attachments", List.of(Map.of("name", "a", "data", new byte[0])),
            "key 'attachments[0]' is missing required key 'mime'"},
        {"inbound", "reply_to", 5, "key 'reply_to' must be str, got int"},
        {"inbound", "reply_to", "", "key 'reply_to' must not be empty"},
        {"inbound", "metadata", "x", "key 'metadata' must be map, got str"},
        {"inbound", "metadata", Map.of(1, "x"), "key 'metadata' contains a map with a non-str key (int)"},
        {"inbound", "metadata", Mp.raw("81 a174 d6ff66851e80"), "extension value"},
        {"outbound", "type", "", "key 'type' must not be empty"},
        {"outbound", "type", true, "key 'type' must be str, got bool"},
        {"outbound", "in_reply_to", 3, "key 'in_reply_to' must be str, got int"},
        {"outbound", "message_key", 1, "key 'message_key' must be str, got int"},
        {"outbound", "message_key", "", "key 'message_key' must not be empty"},
        {"tool_request", "tool", "", "key 'tool' must not be empty"},
        {"tool_request", "args", List.of(1), "key 'args' must be map, got array"},
        {"tool_request", "args", null, "key 'args' must be map, got nil"},
        {"tool_request", "reply_to", "", "key 'reply_to' must not be empty"},
        {"tool_request", "platform", 1, "key 'platform' must be str, got int"},
        {"tool_reply", "ok", 1, "key 'ok' must be bool, got int"},
        {"tool_reply", "ok", "true", "key 'ok' must be bool, got str"},
        {"tool_reply", "error", "boom", "key 'error' must be map, got str"},
        {"tool_reply", "error", Map.of("message", "m"), "key 'error' is missing required key 'code'"},
        {"tool_reply", "error", Map.of("code", 1, "message", "m"), "key 'error.code' must be str, got int"},
        {"tool_reply", "error", Map.of("code", "", "message", "m"), "key 'error.code' must not be empty"},
        {"tool_request", "reply_to", null, "key 'reply_to' must be str, got nil"},
        {"tool_request", "tool", null, "key 'tool' must be str, got nil"},
        {"tool_reply", "result", Mp.raw("81 01 02"), "key 'result' contains a map with a non-str key"},
    };

    @TestFactory
    Stream<DynamicTest> wrongTypeForEachKey() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Object[] w : WRONG) {
            String kind = (String) w[0];
            String key = (String) w[1];
            tests.add(DynamicTest.dynamicTest(kind + "." + key + " = " + w[2],
                    () -> malformed(base(kind).put(key, w[2]).bytes(), (String) w[3])));
        }
        return tests.stream();
    }

    @Test
    void duplicateKeys() {
        malformed(Mp.inbound().add("id", "again").bytes(), "duplicate key 'id'");
        malformed(Mp.inbound().add("x", 1).add("x", 2).bytes(), "duplicate key 'x'");
        malformed(Mp.inbound().put("metadata", Mp.raw("82 a161 01 a161 02")).bytes(), "duplicate key 'a'");
        malformed(Mp.inbound().put("headers", Mp.raw("82 a161 a162 a161 a163")).bytes(), "duplicate key 'a'");
    }

    @Test
    void nonStringTopLevelKey() {
        malformed(Mp.inbound().add(Mp.raw("07"), "seven").bytes(), "top-level map keys must be str, got int");
    }

    @Test
    void aSentReplacementCharacterAndOtherNonAsciiTextAreKept() {
        String text = "a\uFFFDb é 日本 \uD83D\uDE00 \uFFFD";
        InboundEnvelope e = (InboundEnvelope) CODEC.decode(Mp.inbound().put("content", text).bytes());
        assertEquals(text, e.content());
    }

    @Test
    void invalidUtf8InKey() {
        malformed(Mp.inbound().add(Mp.raw("a2 c328"), "x").bytes(), "not valid UTF-8");
        // a key holding a U+FFFD next to malformed bytes
        malformed(Mp.inbound().add(Mp.raw("a5 efbfbdc328"), "x").bytes(), "not valid UTF-8");
    }

    @Test
    void newerVersionIsUnsupportedWhateverElse() {
        UnsupportedVersionException e = assertThrows(UnsupportedVersionException.class,
                () -> CODEC.decode(Mp.inbound().put("v", 2).bytes()));
        assertEquals(2, e.version());
        assertEquals("unsupported_version", e.reason());
        assertEquals("envelope version 2 is newer than supported version 1", e.getMessage());
        // judged before missing/odd keys
        assertEquals(2, assertThrows(UnsupportedVersionException.class,
                () -> CODEC.decode(Mp.pairs("v", 2).bytes())).version());
        assertEquals(3, assertThrows(UnsupportedVersionException.class, () -> CODEC.decode(
                Mp.pairs("kind", "bogus", "id", 5, "x", Map.of(1, 2), "v", 3).add("id", 6).bytes())).version());
        assertEquals(Integer.MAX_VALUE, assertThrows(UnsupportedVersionException.class,
                () -> CODEC.decode(Mp.inbound().put("v", 1L << 40).bytes())).version());
        UnsupportedVersionException huge = assertThrows(UnsupportedVersionException.class,
                () -> CODEC.decode(Mp.inbound().put("v", Mp.raw("cf ffffffffffffffff")).bytes()));
        assertTrue(huge.getMessage().contains("18446744073709551615"));
    }

    @Test
    void badVersions() {
        malformed(Mp.inbound().put("v", 0).bytes(), "key 'v' must be >= 1, got 0");
        malformed(Mp.inbound().put("v", -1).bytes(), "key 'v' must be >= 1, got -1");
        malformed(Mp.inbound().put("v", "1").bytes(), "key 'v' must be int, got str");
        malformed(Mp.inbound().put("v", 1.0).bytes(), "key 'v' must be int, got float");
        malformed(Mp.inbound().remove("v").bytes(), "missing required key 'v'");
        // structure errors are still reported as such
        malformed(Mp.concat(Mp.pairs("v", 2).bytes(), new byte[] {1}), "trailing bytes");
    }

    @Test
    void oversizeDecode() {
        byte[] bytes = Mp.inbound().put("content", "x".repeat(500)).bytes();
        EnvelopeTooLargeException e = assertThrows(EnvelopeTooLargeException.class,
                () -> EnvelopeCodec.create(100).decode(bytes));
        assertEquals(bytes.length, e.size());
        assertEquals(100, e.max());
        // the size is checked before anything else, even for garbage
        assertThrows(EnvelopeTooLargeException.class, () -> EnvelopeCodec.create(4).decode(new byte[] {1, 2, 3, 4, 5}));
    }

    @Test
    void nestingBombs() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            // 100k nested arrays as an unknown key, in metadata, and at the top
            byte[] deep = Mp.concat(Mp.repeat((byte) 0x91, 100_000), new byte[] {(byte) 0xc0});
            malformed(Mp.inbound().put("x", Mp.raw(deep)).bytes(), "nesting deeper than 64");
            malformed(Mp.inbound().put("metadata", Mp.raw(Mp.concat(Mp.raw("81 a161").bytes(), deep))).bytes(),
                    "nesting deeper than 64");
            malformed(Mp.inbound().put("result", Mp.raw(deep)).bytes(), "nesting deeper than 64");
            byte[] maps = new byte[200_000];
            for (int i = 0; i < maps.length; i += 2) {
                maps[i] = (byte) 0x81;
                maps[i + 1] = (byte) 0xc0; // nil key, map value...
            }
            malformed(Mp.inbound().put("metadata", Mp.raw(maps)).bytes());
        });
        // 63 levels below the envelope map are fine, 64 are not
        Object v = "leaf";
        for (int i = 0; i < 62; i++) {
            v = List.of(v);
        }
        Object okDepth = Map.of("a", v); // metadata map at level 2, 62 lists -> leaf's container at level 64
        CODEC.decode(Mp.inbound().put("metadata", okDepth).bytes());
        malformed(Mp.inbound().put("metadata", Map.of("a", List.of(v))).bytes(), "nesting deeper than 64");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "dd 7fffffff 01",          // array32 claiming 2^31-1 elements
        "dd ffffffff 01",          // array32 claiming 2^32-1 elements
        "df 7fffffff a161 01",     // map32
        "db 7fffffff 6162",        // str32
        "db 80000000 6162",        // str32 claiming 2^31 (negative as int)
        "c6 7fffffff 00",          // bin32
        "c9 7fffffff 05 00",       // ext32
        "dc ffff 01",              // array16
    })
    void lengthBombs(String hex) {
        Mp.Raw bomb = Mp.raw(hex);
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            malformed(Mp.inbound().put("x_unknown", bomb).bytes());
            malformed(Mp.inbound().put("metadata", Mp.raw(Mp.concat(Mp.raw("81 a161").bytes(), bomb.bytes())))
                    .bytes());
            malformed(Mp.inbound().put("content", bomb).bytes());
            malformed(bomb.bytes());
        });
        malformed(Mp.raw("df ffffffff").bytes(), "truncated MessagePack");
        malformed(Mp.raw("de ffff").bytes(), "truncated MessagePack");
    }

    @Test
    void kindMismatch() {
        byte[] inbound = Mp.inbound().bytes();
        MalformedEnvelopeException e = assertThrows(MalformedEnvelopeException.class,
                () -> CODEC.decode(inbound, OutboundEnvelope.class));
        assertEquals("expected kind 'outbound' envelope, got kind 'inbound'", e.getMessage());
        assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(inbound, ToolRequest.class));
        assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(Mp.toolReply().bytes(), ToolRequest.class));
        assertEquals(Kind.TOOL_REPLY, CODEC.decode(Mp.toolReply().bytes(), ToolReply.class).kind());
        // errors in the bytes win over the kind check
        assertThrows(UnsupportedVersionException.class,
                () -> CODEC.decode(Mp.inbound().put("v", 2).bytes(), OutboundEnvelope.class));
    }

    @Test
    void keysOfOtherKindsAreNotValidatedAsTheirs() {
        // 'ok' as a str is wrong on a tool_reply, but merely unknown on an inbound envelope
        InboundEnvelope in = CODEC.decode(Mp.inbound().put("ok", "yes").put("args", List.of()).bytes(),
                InboundEnvelope.class);
        assertEquals(List.of("ok", "args"), new ArrayList<>(in.extra().keySet()));
    }
}
