package io.sgstreams.core.envelope;

import static io.sgstreams.core.envelope.WireKeys.ARGS;
import static io.sgstreams.core.envelope.WireKeys.ATTACHMENTS;
import static io.sgstreams.core.envelope.WireKeys.CHANNEL_ID;
import static io.sgstreams.core.envelope.WireKeys.TENANT_ID;
import static io.sgstreams.core.envelope.WireKeys.SEQ;
import static io.sgstreams.core.envelope.WireKeys.ATTEMPT;
import static io.sgstreams.core.envelope.WireKeys.CONTENT;
import static io.sgstreams.core.envelope.WireKeys.CORRELATION_ID;
import static io.sgstreams.core.envelope.WireKeys.DEADLINE;
import static io.sgstreams.core.envelope.WireKeys.ENQUEUED_AT;
import static io.sgstreams.core.envelope.WireKeys.ERROR;
import static io.sgstreams.core.envelope.WireKeys.HEADERS;
import static io.sgstreams.core.envelope.WireKeys.ID;
import static io.sgstreams.core.envelope.WireKeys.IN_REPLY_TO;
import static io.sgstreams.core.envelope.WireKeys.KIND;
import static io.sgstreams.core.envelope.WireKeys.MESSAGE_KEY;
import static io.sgstreams.core.envelope.WireKeys.METADATA;
import static io.sgstreams.core.envelope.WireKeys.NAMES;
import static io.sgstreams.core.envelope.WireKeys.OK;
import static io.sgstreams.core.envelope.WireKeys.PLATFORM;
import static io.sgstreams.core.envelope.WireKeys.REPLY_TO;
import static io.sgstreams.core.envelope.WireKeys.RESULT;
import static io.sgstreams.core.envelope.WireKeys.TOOL;
import static io.sgstreams.core.envelope.WireKeys.TYPE;
import static io.sgstreams.core.envelope.WireKeys.USER_ID;
import static io.sgstreams.core.envelope.WireKeys.V;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.ExtensionTypeHeader;
import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageIntegerOverflowException;
import org.msgpack.core.MessageNeverUsedFormatException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessageSizeException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.value.Value;
import org.msgpack.value.ValueType;

/**
 * Decodes one envelope; single use, not thread-safe (the codec makes one per call).
 *
 * <p>One pass over the bytes with the msgpack-core streaming unpacker. Errors in the MessagePack structure
 * itself (truncation, a declared length longer than the rest of the input, nesting deeper than
 * {@link FreeForm#MAX_DEPTH}, the reserved byte 0xc1, trailing bytes) are thrown at once. Errors in the
 * envelope's content (a key of the wrong type, a duplicate key, ...) are only recorded while the pass goes on, so
 * that after the map has been read {@code v} can be judged first: an envelope of a newer version is reported as
 * such however odd the rest of it looks. Keys of another kind (e.g. {@code tool} in an inbound envelope) are
 * parsed like any key but, once the kind is known, treated as unknown keys: their errors are ignored and their
 * bytes preserved in {@link Envelope#extra()}.
 */
final class EnvelopeReader {
    private static final int MAX_DEPTH = FreeForm.MAX_DEPTH;

    private final byte[] buf;
    private final MessageUnpacker u;

    /** Bitmask of the known keys met, and of those among them whose value was nil. */
    private int present;
    private int nil;
    /** First content error per known key, and the first error not tied to one. */
    private String[] keyErrors;
    private String generalError;

    private long v;
    private String hugeV;
    private String kindStr;
    private String id;
    private String correlationId;
    private String platform;
    private String channelId;
    private String tenantId;
    private Integer seq;
    private Integer attempt;
    private long enqueuedAt;
    private Long deadline;
    private Map<String, String> headers;
    private String userId;
    private String content;
    private List<Attachment> attachments;
    private String replyTo;
    private Map<String, Object> metadata;
    private String type;
    private String inReplyTo;
    private String messageKey;
    private String tool;
    private Map<String, Object> args;
    private boolean ok;
    private Object result;
    private ToolError error;

    /** Unknown keys and kind-specific keys, in wire order, with the byte range of their values. */
    private String[] extraKeys;
    private int[] extraKeyIds;
    private int[] extraStart;
    private int[] extraEnd;
    private int extraCount;

    EnvelopeReader(byte[] buf) {
        this(buf, MessagePack.newDefaultUnpacker(buf));
    }

    private EnvelopeReader(byte[] buf, MessageUnpacker u) {
        this.buf = buf;
        this.u = u;
    }

    /** Per thread: an unpacker reset onto each envelope (a new one per decode was a seventh of what decoding allocated). */
    private static final ThreadLocal<Reusable> UNPACKER = ThreadLocal.withInitial(Reusable::new);
    private static final int KEEP_AT_MOST = 64 * 1024;

    private static final class Reusable {
        final org.msgpack.core.buffer.ArrayBufferInput in = new org.msgpack.core.buffer.ArrayBufferInput(new byte[0]);
        final MessageUnpacker u = MessagePack.DEFAULT_UNPACKER_CONFIG.newUnpacker(in);
        boolean busy;
    }

    /** Decodes {@code buf}; throws only {@link EnvelopeException}s. */
    static Envelope decode(byte[] buf) {
        if (buf.length == 0) {
            throw new MalformedEnvelopeException("truncated MessagePack: empty input");
        }
        try {
            Reusable r = UNPACKER.get();
            if (r.busy) {
                return new EnvelopeReader(buf).read(); // not reached today (nothing decodes while decoding), but safe
            }
            r.busy = true;
            try {
                r.in.reset(buf);
                r.u.reset(r.in);
                return new EnvelopeReader(buf, r.u).read();
            } finally {
                r.busy = false;
                if (buf.length > KEEP_AT_MOST) {
                    UNPACKER.set(new Reusable()); // do not keep a large envelope reachable from the thread
                }
            }
        } catch (EnvelopeException e) {
            throw e;
        } catch (MessageInsufficientBufferException e) {
            throw new MalformedEnvelopeException("truncated MessagePack", e);
        } catch (MessageNeverUsedFormatException e) {
            throw new MalformedEnvelopeException("invalid MessagePack: reserved type byte 0xc1", e);
        } catch (MessageSizeException e) {
            // a str/bin/ext/array/map header declaring 2^31 or more: necessarily beyond the input
            throw new MalformedEnvelopeException("truncated MessagePack: a header declares a length of 2^31 or more",
                    e);
        } catch (MessageIntegerOverflowException e) {
            throw new MalformedEnvelopeException("integer out of range", e);
        } catch (MessagePackException | IOException e) {
            throw new MalformedEnvelopeException("invalid MessagePack: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Safety net (e.g. ArithmeticException, IndexOutOfBounds): input must never escape as another type.
            throw new MalformedEnvelopeException("invalid envelope: " + e, e);
        } catch (StackOverflowError e) {
            throw new MalformedEnvelopeException("invalid envelope: nested too deeply", e);
        }
    }

    private Envelope read() throws IOException {
        ValueType top = valueType(u.getNextFormat());
        if (top != ValueType.MAP) {
            throw new MalformedEnvelopeException("not a map: an envelope is a MessagePack map, got " + name(top));
        }
        int n = u.unpackMapHeader();
        need(2L * n);
        for (int i = 0; i < n; i++) {
            ValueType kt = valueType(u.getNextFormat());
            if (kt != ValueType.STRING) {
                general("top-level map keys must be str, got " + name(kt));
                skip(2);
                skip(2);
                continue;
            }
            // known keys are matched on their bytes: no string per key
            int klen = u.unpackRawStringHeader();
            need(klen);
            int kpos = pos();
            int kid = WireKeys.id(buf, kpos, klen);
            String key = kid >= 0 ? WireKeys.NAMES[kid] : utf8(buf, kpos, klen);
            advance(klen);
            if (key == null) {
                general("a top-level key is not valid UTF-8");
                skip(2);
                continue;
            }
            int start = pos();
            if (kid < 0) {
                for (int j = 0; j < extraCount; j++) {
                    if (extraKeyIds[j] < 0 && extraKeys[j].equals(key)) {
                        general("duplicate key '" + key + "'");
                    }
                }
                skip(2);
                addExtra(key, -1, start);
                continue;
            }
            if ((present & (1 << kid)) != 0) {
                general("duplicate key '" + key + "'");
                skip(2);
                continue;
            }
            present |= 1 << kid;
            readKnown(kid);
            if ((WireKeys.COMMON & (1 << kid)) == 0) {
                addExtra(key, kid, start); // kept in case the kind does not know it
            }
        }
        if (u.hasNext()) {
            throw new MalformedEnvelopeException("trailing bytes after envelope (" + remaining() + " bytes)");
        }
        return build();
    }

    private Envelope build() throws IOException {
        // 1. version, before anything else
        if (!has(V)) {
            throw new MalformedEnvelopeException("missing required key 'v'");
        }
        throwIfError(V);
        if (hugeV != null) {
            throw new UnsupportedVersionException(Integer.MAX_VALUE, hugeV);
        }
        if (v > Envelope.SCHEMA_VERSION) {
            throw v > Integer.MAX_VALUE
                    ? new UnsupportedVersionException(Integer.MAX_VALUE, Long.toString(v))
                    : new UnsupportedVersionException((int) v);
        }
        if (v < 1) {
            throw new MalformedEnvelopeException("key 'v' must be >= 1, got " + v);
        }
        // 2. kind
        if (!has(KIND)) {
            throw new MalformedEnvelopeException("missing required key 'kind'");
        }
        throwIfError(KIND);
        Kind kind = Kind.fromWireOrNull(kindStr);
        if (kind == null) {
            throw new MalformedEnvelopeException("key 'kind' must be one of inbound, outbound, tool_request, "
                    + "tool_reply; got unknown kind '" + kindStr + "'");
        }
        int known = WireKeys.known(kind);
        // 3. recorded errors
        if (generalError != null) {
            throw new MalformedEnvelopeException(generalError);
        }
        if (keyErrors != null) {
            for (int k = 0; k < WireKeys.COUNT; k++) {
                if (keyErrors[k] != null && (known & (1 << k)) != 0) {
                    throw new MalformedEnvelopeException(keyErrors[k]);
                }
            }
        }
        // 4. required keys and values
        require(ID);
        require(CORRELATION_ID);
        require(ENQUEUED_AT);
        notEmpty(ID, id);
        notEmpty(CORRELATION_ID, correlationId);
        Map<String, Value> extra = extras(known);
        Map<String, String> hdrs = headers == null ? FrozenMap.empty() : headers;
        try {
            switch (kind) {
                case INBOUND:
                    require(PLATFORM);
                    require(CHANNEL_ID);
                    require(USER_ID);
                    require(CONTENT);
                    notEmpty(PLATFORM, platform);
                    notEmpty(CHANNEL_ID, channelId);
                    if (has(REPLY_TO)) {
                        notEmpty(REPLY_TO, replyTo);
                    }
                    if (has(TENANT_ID)) {
                        notEmpty(TENANT_ID, tenantId);
                    }
                    return new InboundEnvelope((int) v, id, correlationId, platform, channelId, tenantId, enqueuedAt,
                            deadline, hdrs, userId, content, attachments, replyTo, metadata, extra);
                case OUTBOUND:
                    require(PLATFORM);
                    require(CHANNEL_ID);
                    require(TYPE);
                    require(IN_REPLY_TO);
                    require(CONTENT);
                    notEmpty(PLATFORM, platform);
                    notEmpty(CHANNEL_ID, channelId);
                    notEmpty(TYPE, type);
                    notEmpty(IN_REPLY_TO, inReplyTo);
                    if (has(MESSAGE_KEY)) {
                        notEmpty(MESSAGE_KEY, messageKey);
                    }
                    if (has(TENANT_ID)) {
                        notEmpty(TENANT_ID, tenantId);
                    }
                    return new OutboundEnvelope((int) v, id, correlationId, platform, channelId, tenantId, enqueuedAt,
                            deadline, hdrs, type, inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
                case TOOL_REQUEST:
                    require(TOOL);
                    require(ARGS);
                    require(REPLY_TO);
                    notEmpty(TOOL, tool);
                    notEmpty(REPLY_TO, replyTo);
                    return new ToolRequest((int) v, id, correlationId, platform, channelId, enqueuedAt, deadline,
                            hdrs, tool, args, replyTo, extra);
                case TOOL_REPLY:
                    require(OK);
                    if (!ok) {
                        if ((present & (1 << ERROR)) == 0) {
                            throw new MalformedEnvelopeException(
                                    "missing required key 'error' (required when 'ok' is false)");
                        }
                        require(ERROR);
                    }
                    return new ToolReply((int) v, id, correlationId, platform, channelId, enqueuedAt, deadline,
                            hdrs, ok, result, error, extra);
                default:
                    throw new AssertionError(kind);
            }
        } catch (IllegalArgumentException | NullPointerException e) {
            // The checks above mirror the constructors; this only guards against drift between the two.
            throw new MalformedEnvelopeException("invalid envelope: " + e.getMessage(), e);
        }
    }

    private Map<String, Value> extras(int known) throws IOException {
        int c = 0;
        for (int i = 0; i < extraCount; i++) {
            if (isExtra(i, known)) {
                c++;
            }
        }
        if (c == 0) {
            return ExtraFields.EMPTY;
        }
        String[] ks = new String[c];
        Value[] vs = new Value[c];
        byte[][] raw = new byte[c][];
        int j = 0;
        for (int i = 0; i < extraCount; i++) {
            if (isExtra(i, known)) {
                ks[j] = extraKeys[i];
                raw[j] = Arrays.copyOfRange(buf, extraStart[i], extraEnd[i]);
                // Safe: the range was fully validated (lengths, depth) by the main pass.
                vs[j] = MessagePack.newDefaultUnpacker(raw[j]).unpackValue();
                j++;
            }
        }
        return new ExtraFields(ks, vs, raw);
    }

    private boolean isExtra(int i, int known) {
        int kid = extraKeyIds[i];
        return kid < 0 || (known & (1 << kid)) == 0;
    }

    private void addExtra(String key, int kid, int start) {
        if (extraKeys == null) {
            extraKeys = new String[4];
            extraKeyIds = new int[4];
            extraStart = new int[4];
            extraEnd = new int[4];
        } else if (extraCount == extraKeys.length) {
            int cap = extraCount * 2;
            extraKeys = Arrays.copyOf(extraKeys, cap);
            extraKeyIds = Arrays.copyOf(extraKeyIds, cap);
            extraStart = Arrays.copyOf(extraStart, cap);
            extraEnd = Arrays.copyOf(extraEnd, cap);
        }
        extraKeys[extraCount] = key;
        extraKeyIds[extraCount] = kid;
        extraStart[extraCount] = start;
        extraEnd[extraCount] = pos();
        extraCount++;
    }

    // ---------------------------------------------------------------- known keys

    private void readKnown(int kid) throws IOException {
        if ((WireKeys.NILLABLE & (1 << kid)) != 0 && u.getNextFormat() == MessageFormat.NIL) {
            u.unpackNil(); // an optional key set to nil reads as absent
            nil |= 1 << kid;
            return;
        }
        switch (kid) {
            case V:
                readVersion();
                break;
            case ID:
                id = str(kid);
                break;
            case KIND:
                kindStr = str(kid);
                break;
            case CORRELATION_ID:
                correlationId = str(kid);
                break;
            case PLATFORM:
                platform = str(kid);
                break;
            case CHANNEL_ID:
                channelId = str(kid);
                break;
            case TENANT_ID:
                tenantId = str(kid);
                break;
            case SEQ:
                seq = count(kid);
                break;
            case ATTEMPT:
                attempt = count(kid);
                break;
            case ENQUEUED_AT: {
                Long l = int64(kid);
                if (l != null) {
                    enqueuedAt = l;
                }
                break;
            }
            case DEADLINE:
                deadline = int64(kid);
                break;
            case HEADERS:
                headers = readHeaders();
                break;
            case USER_ID:
                userId = str(kid);
                break;
            case CONTENT:
                content = str(kid);
                break;
            case ATTACHMENTS:
                attachments = readAttachments();
                break;
            case REPLY_TO:
                replyTo = str(kid);
                break;
            case METADATA:
                metadata = freeMap(kid);
                break;
            case TYPE:
                type = str(kid);
                break;
            case IN_REPLY_TO:
                inReplyTo = str(kid);
                break;
            case MESSAGE_KEY:
                messageKey = str(kid);
                break;
            case TOOL:
                tool = str(kid);
                break;
            case ARGS:
                args = freeMap(kid);
                break;
            case OK: {
                ValueType t = valueType(u.getNextFormat());
                if (t == ValueType.BOOLEAN) {
                    ok = u.unpackBoolean();
                } else {
                    typeError(kid, NAMES[kid], "bool", t, 2);
                }
                break;
            }
            case RESULT:
                result = any(kid, 2);
                break;
            case ERROR:
                error = readToolError();
                break;
            default:
                throw new AssertionError(kid);
        }
    }

    private void readVersion() throws IOException {
        MessageFormat f = u.getNextFormat();
        ValueType t = valueType(f);
        if (t != ValueType.INTEGER) {
            typeError(V, "v", "int", t, 2);
            return;
        }
        if (f == MessageFormat.UINT64) {
            BigInteger b = u.unpackBigInteger();
            if (b.bitLength() > 63) {
                hugeV = b.toString();
            } else {
                v = b.longValue();
            }
        } else {
            v = u.unpackLong();
        }
    }

    private String str(int kid) throws IOException {
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.STRING) {
            typeError(kid, NAMES[kid], "str", t, 2);
            return null;
        }
        String s = readStrBody();
        if (s == null) {
            fail(kid, "key '" + NAMES[kid] + "' is not valid UTF-8");
        }
        return s;
    }

    /** A non-negative int ({@code seq}, {@code attempt}); on a content error records it and returns null. */
    private Integer count(int kid) throws IOException {
        Long l = int64(kid);
        if (l == null) {
            return null;
        }
        if (l < 0 || l > Integer.MAX_VALUE) {
            fail(kid, "key '" + NAMES[kid] + "' must be between 0 and " + Integer.MAX_VALUE + ", got " + l);
            return null;
        }
        return (int) (long) l;
    }

    private Long int64(int kid) throws IOException {
        MessageFormat f = u.getNextFormat();
        ValueType t = valueType(f);
        if (t != ValueType.INTEGER) {
            typeError(kid, NAMES[kid], "int", t, 2);
            return null;
        }
        if (f == MessageFormat.UINT64) {
            // what msgpack-java writes for every long of 2^32 or more (timestamps): read as a long, no BigInteger
            try {
                return u.unpackLong();
            } catch (MessageIntegerOverflowException e) {
                fail(kid, "key '" + NAMES[kid] + "' is out of the int64 range: " + e.getBigInteger());
                return null;
            }
        }
        return u.unpackLong();
    }

    private Map<String, String> readHeaders() throws IOException {
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.MAP) {
            typeError(HEADERS, "headers", "map", t, 2);
            return null;
        }
        checkDepth(2);
        int n = u.unpackMapHeader();
        need(2L * n);
        LinkedHashMap<String, String> m = FrozenMap.newLinkedHashMap(n);
        boolean bad = false;
        for (int i = 0; i < n; i++) {
            ValueType kt = valueType(u.getNextFormat());
            String k = null;
            if (kt == ValueType.STRING) {
                k = readStrBody();
                if (k == null) {
                    bad = fail(HEADERS, "key 'headers' has a key that is not valid UTF-8");
                }
            } else {
                bad = fail(HEADERS, "key 'headers' must map str to str, got a key of type " + name(kt));
                skip(3);
            }
            ValueType vt = valueType(u.getNextFormat());
            String val = null;
            if (vt == ValueType.STRING) {
                val = readStrBody();
                if (val == null) {
                    bad = fail(HEADERS, "key 'headers' has a value that is not valid UTF-8");
                }
            } else {
                bad = fail(HEADERS, "key 'headers' must map str to str, got a value of type " + name(vt)
                        + (k == null ? "" : " for '" + k + "'"));
                skip(3);
            }
            if (k != null && val != null && m.put(k, val) != null) {
                bad = fail(HEADERS, "key 'headers' has duplicate key '" + k + "'");
            }
        }
        return bad ? null : FrozenMap.wrap(m, 1);
    }

    private List<Attachment> readAttachments() throws IOException {
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.ARRAY) {
            typeError(ATTACHMENTS, "attachments", "array", t, 2);
            return null;
        }
        checkDepth(2);
        int n = u.unpackArrayHeader();
        need(n);
        Attachment[] out = new Attachment[n];
        boolean bad = false;
        for (int i = 0; i < n; i++) {
            out[i] = readAttachment(i);
            bad |= out[i] == null;
        }
        return bad ? null : List.of(out);
    }

    private Attachment readAttachment(int index) throws IOException {
        String path = "attachments[" + index + "]";
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.MAP) {
            typeError(ATTACHMENTS, path, "map", t, 3);
            return null;
        }
        checkDepth(3);
        int n = u.unpackMapHeader();
        need(2L * n);
        String name = null;
        String mime = null;
        byte[] data = null;
        boolean bad = false;
        for (int i = 0; i < n; i++) {
            ValueType kt = valueType(u.getNextFormat());
            String k = kt == ValueType.STRING ? readStrBody() : null;
            if (k == null) {
                bad = fail(ATTACHMENTS, "key '" + path + "' has a key that is not a valid str");
                if (kt != ValueType.STRING) {
                    skip(4);
                }
                skip(4);
                continue;
            }
            switch (k) {
                case "name":
                case "mime": {
                    ValueType vt = valueType(u.getNextFormat());
                    String s = null;
                    if (vt == ValueType.STRING) {
                        s = readStrBody();
                        if (s == null) {
                            bad = fail(ATTACHMENTS, "key '" + path + "." + k + "' is not valid UTF-8");
                        }
                    } else {
                        bad = typeError(ATTACHMENTS, path + "." + k, "str", vt, 4);
                    }
                    if (s != null && (k.equals("name") ? name : mime) != null) {
                        bad = fail(ATTACHMENTS, "key '" + path + "' has duplicate key '" + k + "'");
                    }
                    if (k.equals("name")) {
                        name = s;
                    } else {
                        mime = s;
                    }
                    break;
                }
                case "data": {
                    ValueType vt = valueType(u.getNextFormat());
                    if (vt == ValueType.BINARY) {
                        if (data != null) {
                            bad = fail(ATTACHMENTS, "key '" + path + "' has duplicate key 'data'");
                        }
                        data = binBody();
                    } else {
                        bad = typeError(ATTACHMENTS, path + ".data", "bin", vt, 4);
                    }
                    break;
                }
                default:
                    skip(4); // unknown keys inside an attachment are ignored
            }
        }
        if (bad) {
            return null;
        }
        if (name == null || mime == null || data == null) {
            fail(ATTACHMENTS, "key '" + path + "' is missing required key '"
                    + (name == null ? "name" : mime == null ? "mime" : "data") + "'");
            return null;
        }
        return new Attachment(name, mime, data);
    }

    private ToolError readToolError() throws IOException {
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.MAP) {
            typeError(ERROR, "error", "map", t, 2);
            return null;
        }
        checkDepth(2);
        int n = u.unpackMapHeader();
        need(2L * n);
        String code = null;
        String message = null;
        boolean bad = false;
        for (int i = 0; i < n; i++) {
            ValueType kt = valueType(u.getNextFormat());
            String k = kt == ValueType.STRING ? readStrBody() : null;
            if (k == null) {
                bad = fail(ERROR, "key 'error' has a key that is not a valid str");
                if (kt != ValueType.STRING) {
                    skip(3);
                }
                skip(3);
                continue;
            }
            if (!k.equals("code") && !k.equals("message")) {
                skip(3); // unknown keys inside error are ignored
                continue;
            }
            ValueType vt = valueType(u.getNextFormat());
            if (vt != ValueType.STRING) {
                bad = typeError(ERROR, "error." + k, "str", vt, 3);
                continue;
            }
            String s = readStrBody();
            if (s == null) {
                bad = fail(ERROR, "key 'error." + k + "' is not valid UTF-8");
            } else if ((k.equals("code") ? code : message) != null) {
                bad = fail(ERROR, "key 'error' has duplicate key '" + k + "'");
            } else if (k.equals("code")) {
                code = s;
            } else {
                message = s;
            }
        }
        if (bad) {
            return null;
        }
        if (code == null || message == null) {
            fail(ERROR, "key 'error' is missing required key '" + (code == null ? "code" : "message") + "'");
            return null;
        }
        if (code.isEmpty()) {
            fail(ERROR, "key 'error.code' must not be empty");
            return null;
        }
        return new ToolError(code, message);
    }

    // ---------------------------------------------------------------- free-form values

    @SuppressWarnings("unchecked")
    private Map<String, Object> freeMap(int kid) throws IOException {
        ValueType t = valueType(u.getNextFormat());
        if (t != ValueType.MAP) {
            typeError(kid, NAMES[kid], "map", t, 2);
            return null;
        }
        return (Map<String, Object>) any(kid, 2);
    }

    /** Reads any value as canonical Java; on a content error records it and returns null (value consumed). */
    private Object any(int kid, int depth) throws IOException {
        MessageFormat f = u.getNextFormat();
        switch (valueType(f)) {
            case NIL:
                u.unpackNil();
                return null;
            case BOOLEAN:
                return u.unpackBoolean();
            case INTEGER:
                if (f == MessageFormat.UINT64) {
                    BigInteger b = u.unpackBigInteger();
                    return b.bitLength() <= 63 ? (Object) b.longValue() : b;
                }
                return u.unpackLong();
            case FLOAT:
                return u.unpackDouble();
            case STRING: {
                String s = readStrBody();
                if (s == null) {
                    fail(kid, "key '" + NAMES[kid] + "' contains a str that is not valid UTF-8");
                }
                return s;
            }
            case BINARY:
                return binBody();
            case ARRAY: {
                checkDepth(depth);
                int n = u.unpackArrayHeader();
                need(n);
                ArrayList<Object> list = new ArrayList<>(n);
                int h = 0;
                for (int i = 0; i < n; i++) {
                    Object e = any(kid, depth + 1);
                    h = Math.max(h, FreeForm.height(e));
                    list.add(e);
                }
                return FrozenList.wrap(list, h + 1);
            }
            case MAP: {
                checkDepth(depth);
                int n = u.unpackMapHeader();
                need(2L * n);
                LinkedHashMap<String, Object> map = FrozenMap.newLinkedHashMap(n);
                int h = 0;
                for (int i = 0; i < n; i++) {
                    ValueType kt = valueType(u.getNextFormat());
                    if (kt != ValueType.STRING) {
                        fail(kid, "key '" + NAMES[kid] + "' contains a map with a non-str key (" + name(kt) + ")");
                        skip(depth + 1);
                        skip(depth + 1);
                        continue;
                    }
                    String k = readStrBody();
                    if (k == null) {
                        fail(kid, "key '" + NAMES[kid] + "' contains a map key that is not valid UTF-8");
                    }
                    Object e = any(kid, depth + 1);
                    h = Math.max(h, FreeForm.height(e));
                    if (k != null) {
                        if (map.containsKey(k)) {
                            fail(kid, "key '" + NAMES[kid] + "' contains a map with duplicate key '" + k + "'");
                        } else {
                            map.put(k, e);
                        }
                    }
                }
                return FrozenMap.wrap(map, h + 1);
            }
            case EXTENSION: {
                ExtensionTypeHeader h = u.unpackExtensionTypeHeader();
                need(h.getLength());
                advance(h.getLength());
                fail(kid, "key '" + NAMES[kid] + "' contains a MessagePack extension value (type " + h.getType()
                        + "), which is not supported there");
                return null;
            }
            default:
                throw new AssertionError(f);
        }
    }

    // ---------------------------------------------------------------- MessagePack primitives

    private int pos() {
        return (int) u.getTotalReadBytes();
    }

    private long remaining() {
        return buf.length - u.getTotalReadBytes();
    }

    /** Fails fast when a header declares more elements/bytes than could possibly follow. */
    private void need(long n) {
        long r = remaining();
        if (n > r) {
            throw new MalformedEnvelopeException("truncated MessagePack: a header declares " + n
                    + " bytes/elements but only " + r + " bytes remain");
        }
    }

    private static void checkDepth(int depth) {
        if (depth > MAX_DEPTH) {
            throw new MalformedEnvelopeException("MessagePack nesting deeper than " + MAX_DEPTH + " levels");
        }
    }

    private static ValueType valueType(MessageFormat f) {
        if (f == MessageFormat.NEVER_USED) {
            throw new MalformedEnvelopeException("invalid MessagePack: reserved type byte 0xc1");
        }
        return f.getValueType();
    }

    private void advance(int len) throws IOException {
        if (len > 0) {
            u.readPayloadAsReference(len); // a view into buf, no copy (len was checked against what remains)
        }
    }

    /** Reads a str (header already known to be str); null if the bytes are not valid UTF-8. */
    private String readStrBody() throws IOException {
        int len = u.unpackRawStringHeader();
        need(len);
        int p = pos();
        String s = utf8(buf, p, len);
        advance(len);
        return s;
    }

    private byte[] binBody() throws IOException {
        int len = u.unpackBinaryHeader();
        need(len);
        byte[] b = new byte[len];
        u.readPayload(b);
        return b;
    }

    /**
     * The string whose UTF-8 bytes are {@code b[off, off + len)}, or null when they are not valid UTF-8.
     * The JDK's own decoding (its ASCII scan is an intrinsic) replaces malformed input with U+FFFD; only
     * a string that holds U+FFFD, sent or replaced, is decoded again strictly to tell which.
     */
    static String utf8(byte[] b, int off, int len) {
        String s = new String(b, off, len, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') < 0) {
            return s;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b, off, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Skips one value, validating its structure (lengths, depth); {@code depth} is its nesting level. */
    private void skip(int depth) throws IOException {
        switch (valueType(u.getNextFormat())) {
            case NIL:
            case BOOLEAN:
            case INTEGER:
            case FLOAT:
                u.skipValue();
                return;
            case STRING: {
                int len = u.unpackRawStringHeader();
                need(len);
                advance(len);
                return;
            }
            case BINARY: {
                int len = u.unpackBinaryHeader();
                need(len);
                advance(len);
                return;
            }
            case EXTENSION: {
                ExtensionTypeHeader h = u.unpackExtensionTypeHeader();
                need(h.getLength());
                advance(h.getLength());
                return;
            }
            case ARRAY: {
                checkDepth(depth);
                int n = u.unpackArrayHeader();
                need(n);
                for (int i = 0; i < n; i++) {
                    skip(depth + 1);
                }
                return;
            }
            case MAP: {
                checkDepth(depth);
                int n = u.unpackMapHeader();
                need(2L * n);
                for (int i = 0; i < 2 * n; i++) {
                    skip(depth + 1);
                }
                return;
            }
            default:
                throw new AssertionError();
        }
    }

    // ---------------------------------------------------------------- error bookkeeping

    /** True if the key was present with a non-nil value. */
    private boolean has(int kid) {
        return ((present & ~nil) & (1 << kid)) != 0;
    }

    private void require(int kid) {
        if ((nil & (1 << kid)) != 0) {
            throw new MalformedEnvelopeException("key '" + NAMES[kid] + "' must be " + WireKeys.TYPES[kid]
                    + ", got nil");
        }
        if ((present & (1 << kid)) == 0) {
            throw new MalformedEnvelopeException("missing required key '" + NAMES[kid] + "'");
        }
    }

    private static void notEmpty(int kid, String value) {
        if (value.isEmpty()) {
            throw new MalformedEnvelopeException("key '" + NAMES[kid] + "' must not be empty");
        }
    }

    private void throwIfError(int kid) {
        if (keyErrors != null && keyErrors[kid] != null) {
            throw new MalformedEnvelopeException(keyErrors[kid]);
        }
    }

    /** Records a content error for a known key (first one wins); returns true for convenience. */
    private boolean fail(int kid, String message) {
        if (keyErrors == null) {
            keyErrors = new String[WireKeys.COUNT];
        }
        if (keyErrors[kid] == null) {
            keyErrors[kid] = message;
        }
        return true;
    }

    private void general(String message) {
        if (generalError == null) {
            generalError = message;
        }
    }

    /** Records "key 'path' must be X, got Y" and skips the offending value. */
    private boolean typeError(int kid, String path, String expected, ValueType got, int depth) throws IOException {
        fail(kid, "key '" + path + "' must be " + expected + ", got " + name(got));
        skip(depth);
        return true;
    }

    static String name(ValueType t) {
        switch (t) {
            case NIL: return "nil";
            case BOOLEAN: return "bool";
            case INTEGER: return "int";
            case FLOAT: return "float";
            case STRING: return "str";
            case BINARY: return "bin";
            case ARRAY: return "array";
            case MAP: return "map";
            case EXTENSION: return "ext";
            default: return t.toString();
        }
    }
}
