package io.sgstreams.core.envelope;

/** The encoded envelope is larger than the codec's {@link EnvelopeCodec#maxBytes()}. */
public final class EnvelopeTooLargeException extends EnvelopeException {
    private static final long serialVersionUID = 1L;

    private final int size;
    private final int max;

    public EnvelopeTooLargeException(int size, int max) {
        super("envelope is " + size + " bytes, more than the limit of " + max + " bytes");
        this.size = size;
        this.max = max;
    }

    /** Size of the envelope in bytes. */
    public int size() {
        return size;
    }

    /** The limit it exceeded. */
    public int max() {
        return max;
    }

    @Override
    public String reason() {
        return "too_large";
    }
}
