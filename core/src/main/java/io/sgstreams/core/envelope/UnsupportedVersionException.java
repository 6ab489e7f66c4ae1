package io.sgstreams.core.envelope;

/** The envelope's {@code v} is newer than {@link Envelope#SCHEMA_VERSION}. */
public final class UnsupportedVersionException extends EnvelopeException {
    private static final long serialVersionUID = 1L;

    private final int version;

    public UnsupportedVersionException(int version) {
        this(version, Integer.toString(version));
    }

    /** For versions beyond the int range: {@code version} is then clamped to {@link Integer#MAX_VALUE}. */
    UnsupportedVersionException(int version, String shown) {
        super("envelope version " + shown + " is newer than supported version " + Envelope.SCHEMA_VERSION);
        this.version = version;
    }

    /** The version found in the envelope (clamped to {@link Integer#MAX_VALUE} if larger). */
    public int version() {
        return version;
    }

    @Override
    public String reason() {
        return "unsupported_version";
    }
}
