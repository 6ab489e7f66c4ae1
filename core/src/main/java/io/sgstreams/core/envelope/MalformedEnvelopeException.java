package io.sgstreams.core.envelope;

/**
 * The bytes are not a valid envelope: not MessagePack, not exactly one map, a required key missing, a key of
 * the wrong type, an unknown kind, and so on. The message names the offending key and what was wrong.
 */
public final class MalformedEnvelopeException extends EnvelopeException {
    private static final long serialVersionUID = 1L;

    public MalformedEnvelopeException(String message) {
        super(message);
    }

    public MalformedEnvelopeException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String reason() {
        return "malformed";
    }
}
