package io.sgstreams.core.envelope;

/**
 * Base of every error {@link EnvelopeCodec} raises for bad input. {@link #reason()} is a stable, short
 * machine-readable code: {@code "malformed"}, {@code "unsupported_version"} or {@code "too_large"}.
 */
public abstract class EnvelopeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    protected EnvelopeException(String message) {
        super(message);
    }

    protected EnvelopeException(String message, Throwable cause) {
        super(message, cause);
    }

    /** {@code "malformed"}, {@code "unsupported_version"} or {@code "too_large"}. */
    public abstract String reason();
}
