package io.sgstreams.core.envelope;

import java.nio.charset.StandardCharsets;

/** The wire keys of the envelope map, numbered for bitmask bookkeeping, and which kind knows which. */
final class WireKeys {
    static final int V = 0;
    static final int ID = 1;
    static final int KIND = 2;
    static final int CORRELATION_ID = 3;
    static final int PLATFORM = 4;
    static final int CHANNEL_ID = 5;
    static final int ENQUEUED_AT = 6;
    static final int DEADLINE = 7;
    static final int HEADERS = 8;
    static final int USER_ID = 9;
    static final int CONTENT = 10;
    static final int ATTACHMENTS = 11;
    static final int REPLY_TO = 12;
    static final int METADATA = 13;
    static final int TYPE = 14;
    static final int IN_REPLY_TO = 15;
    static final int MESSAGE_KEY = 16;
    static final int TOOL = 17;
    static final int ARGS = 18;
    static final int OK = 19;
    static final int RESULT = 20;
    static final int ERROR = 21;
    static final int TENANT_ID = 22;
    static final int SEQ = 23;
    static final int ATTEMPT = 24;
    static final int COUNT = 25;

    static final String[] NAMES = {
        "v", "id", "kind", "correlation_id", "platform", "channel_id", "enqueued_at", "deadline", "headers",
        "user_id", "content", "attachments", "reply_to", "metadata",
        "type", "in_reply_to", "message_key",
        "tool", "args", "ok", "result", "error",
        "tenant_id", "seq", "attempt",
    };

    /** UTF-8 bytes of {@link #NAMES}, for writing keys without re-encoding them. */
    static final byte[][] BYTES = new byte[COUNT][];

    /**
     * The known keys in an open-addressing table ({@link #slot}: length, first and last byte), each
     * slot holding a key's id plus one, 0 when empty, for {@link #id(byte[], int, int)}. One probe and
     * one comparison for a known key; the earlier table by length compared up to four keys of the same
     * length (2.2 % of the closed loop's samples).
     */
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < COUNT; i++) {
            BYTES[i] = NAMES[i].getBytes(StandardCharsets.UTF_8);
            int s = slot(BYTES[i], 0, BYTES[i].length);
            while (TABLE[s] != 0) {
                s = (s + 1) & (TABLE.length - 1);
            }
            TABLE[s] = i + 1;
        }
    }

    private static int slot(byte[] b, int off, int len) {
        return (len * 73 + b[off] * 7 + b[off + len - 1] * 31) & (TABLE.length - 1);
    }

    /**
     * The id of the known key whose UTF-8 bytes are {@code b[off, off + len)}, or -1: the reader
     * recognises keys on the bytes, without making a string of each (a profile showed the key strings
     * as a third of what decoding an envelope allocated).
     */
    static int id(byte[] b, int off, int len) {
        if (len == 0) {
            return -1;
        }
        for (int s = slot(b, off, len); ; s = (s + 1) & (TABLE.length - 1)) {
            int kid = TABLE[s] - 1;
            if (kid < 0) {
                return -1;
            }
            byte[] k = BYTES[kid];
            if (k.length == len && java.util.Arrays.equals(b, off, off + len, k, 0, len)) {
                return kid;
            }
        }
    }

    static final int COMMON = mask(V, ID, KIND, CORRELATION_ID, PLATFORM, CHANNEL_ID, ENQUEUED_AT, DEADLINE, HEADERS);
    static final int INBOUND = COMMON | mask(TENANT_ID, USER_ID, CONTENT, ATTACHMENTS, REPLY_TO, METADATA);
    static final int OUTBOUND = COMMON | mask(TENANT_ID, TYPE, IN_REPLY_TO, CONTENT, ATTACHMENTS, MESSAGE_KEY, SEQ, ATTEMPT, ERROR);
    static final int TOOL_REQUEST = COMMON | mask(TOOL, ARGS, REPLY_TO);
    static final int TOOL_REPLY = COMMON | mask(OK, RESULT, ERROR);

    /** Optional keys (for at least one kind) whose value may be nil, read as if the key were absent. */
    static final int NILLABLE = mask(PLATFORM, CHANNEL_ID, DEADLINE, HEADERS, ATTACHMENTS, REPLY_TO, METADATA,
            MESSAGE_KEY, RESULT, ERROR, TENANT_ID, SEQ, ATTEMPT);

    /** Wire type of each key, for error messages. */
    static final String[] TYPES = {
        "int", "str", "str", "str", "str", "str", "int", "int", "map",
        "str", "str", "array", "str", "map",
        "str", "str", "str",
        "str", "map", "bool", "any", "map",
        "str", "int", "int",
    };

    private WireKeys() {
    }

    private static int mask(int... keys) {
        int m = 0;
        for (int k : keys) {
            m |= 1 << k;
        }
        return m;
    }

    /** Keys this kind knows (its own plus the common ones), as a bitmask over the key numbers. */
    static int known(Kind kind) {
        switch (kind) {
            case INBOUND: return INBOUND;
            case OUTBOUND: return OUTBOUND;
            case TOOL_REQUEST: return TOOL_REQUEST;
            case TOOL_REPLY: return TOOL_REPLY;
            default: throw new AssertionError(kind);
        }
    }

    static boolean isKnown(Kind kind, String key) {
        int id = id(key);
        return id >= 0 && (known(kind) & (1 << id)) != 0;
    }

    /** Key number of a wire key, or -1. */
    static int id(String key) {
        switch (key) {
            case "v": return V;
            case "id": return ID;
            case "kind": return KIND;
            case "correlation_id": return CORRELATION_ID;
            case "platform": return PLATFORM;
            case "channel_id": return CHANNEL_ID;
            case "enqueued_at": return ENQUEUED_AT;
            case "deadline": return DEADLINE;
            case "headers": return HEADERS;
            case "user_id": return USER_ID;
            case "content": return CONTENT;
            case "attachments": return ATTACHMENTS;
            case "reply_to": return REPLY_TO;
            case "metadata": return METADATA;
            case "type": return TYPE;
            case "in_reply_to": return IN_REPLY_TO;
            case "message_key": return MESSAGE_KEY;
            case "tool": return TOOL;
            case "args": return ARGS;
            case "ok": return OK;
            case "result": return RESULT;
            case "error": return ERROR;
            case "tenant_id": return TENANT_ID;
            case "seq": return SEQ;
            case "attempt": return ATTEMPT;
            default: return -1;
        }
    }
}
