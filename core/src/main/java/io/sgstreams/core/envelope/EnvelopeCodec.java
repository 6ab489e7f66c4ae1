package io.sgstreams.core.envelope;

/**
 * Encodes and decodes envelopes as MessagePack maps (docs/envelope.md). Immutable and thread-safe: share one
 * instance.
 *
 * <p><b>Free-form values</b> ({@code metadata}, {@code args}, {@code result}) decode to: {@code Map<String,
 * Object>} (insertion-ordered), {@code List<Object>}, String, Long (BigInteger for uint64 values above
 * {@code Long.MAX_VALUE}), Double (float32 and float64), Boolean, byte[] and null, all unmodifiable. On
 * construction of a record the same types are accepted plus Integer/Short/Byte/Float/BigDecimal/other Numbers,
 * any Map with String keys, Collections and arrays; they are converted to the decoded form (so a record equals
 * its own decode), anything else is an {@link IllegalArgumentException} naming the type.
 *
 * <p><b>Errors</b>: {@link #decode} throws only {@link EnvelopeException} subclasses, whatever the input:
 * {@link EnvelopeTooLargeException} (checked first), {@link UnsupportedVersionException} ({@code v} above
 * {@link Envelope#SCHEMA_VERSION}, judged before any other key), {@link MalformedEnvelopeException}
 * (everything else).
 *
 * <p>Decoded envelopes do not reference the input array, which the caller may reuse.
 */
public final class EnvelopeCodec {
    /** Default size limit: 1 MiB. */
    public static final int DEFAULT_MAX_BYTES = 1 << 20;

    private static final EnvelopeCodec DEFAULT = new EnvelopeCodec(DEFAULT_MAX_BYTES);

    private final int maxBytes;

    private EnvelopeCodec(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** A codec with {@link #DEFAULT_MAX_BYTES}. */
    public static EnvelopeCodec create() {
        return DEFAULT;
    }

    /** A codec that refuses to encode or decode envelopes larger than {@code maxBytes} bytes. */
    public static EnvelopeCodec create(int maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive, got " + maxBytes);
        }
        return maxBytes == DEFAULT_MAX_BYTES ? DEFAULT : new EnvelopeCodec(maxBytes);
    }

    /** The size limit in bytes. */
    public int maxBytes() {
        return maxBytes;
    }

    /**
     * Encodes {@code e}.
     *
     * @throws EnvelopeTooLargeException if the encoding is larger than {@link #maxBytes()}
     * @throws NullPointerException if {@code e} is null (the records themselves refuse missing required fields)
     */
    public byte[] encode(Envelope e) {
        Checks.notNull(e, "envelope");
        return EnvelopeWriter.encode(e, maxBytes);
    }

    /**
     * Decodes one envelope. The bytes must hold exactly one MessagePack map.
     *
     * @throws EnvelopeTooLargeException if {@code bytes} is longer than {@link #maxBytes()}
     * @throws UnsupportedVersionException if {@code v} is newer than {@link Envelope#SCHEMA_VERSION}
     * @throws MalformedEnvelopeException for anything else wrong (including null input)
     */
    public Envelope decode(byte[] bytes) {
        if (bytes == null) {
            throw new MalformedEnvelopeException("input is null");
        }
        if (bytes.length > maxBytes) {
            throw new EnvelopeTooLargeException(bytes.length, maxBytes);
        }
        return EnvelopeReader.decode(bytes);
    }

    /**
     * Decodes one envelope of the expected type ({@link Envelope} itself accepts any kind).
     *
     * @throws MalformedEnvelopeException if the envelope is of another kind, or as {@link #decode(byte[])}
     */
    public <T extends Envelope> T decode(byte[] bytes, Class<T> expected) {
        Checks.notNull(expected, "expected");
        Envelope e = decode(bytes);
        if (!expected.isInstance(e)) {
            throw new MalformedEnvelopeException("expected " + describe(expected) + " envelope, got kind '"
                    + e.kind().wire() + "'");
        }
        return expected.cast(e);
    }

    private static String describe(Class<?> c) {
        if (c == InboundEnvelope.class) {
            return "kind '" + Kind.INBOUND.wire() + "'";
        }
        if (c == OutboundEnvelope.class) {
            return "kind '" + Kind.OUTBOUND.wire() + "'";
        }
        if (c == ToolRequest.class) {
            return "kind '" + Kind.TOOL_REQUEST.wire() + "'";
        }
        if (c == ToolReply.class) {
            return "kind '" + Kind.TOOL_REPLY.wire() + "'";
        }
        return "a " + c.getSimpleName();
    }

    @Override
    public String toString() {
        return "EnvelopeCodec[maxBytes=" + maxBytes + "]";
    }
}
