package io.sgstreams.core.envelope;

/** The four envelope kinds, with their wire names (the {@code kind} key). */
public enum Kind {
    INBOUND("inbound"),
    OUTBOUND("outbound"),
    TOOL_REQUEST("tool_request"),
    TOOL_REPLY("tool_reply");

    private final String wire;

    Kind(String wire) {
        this.wire = wire;
    }

    /** The value written in the {@code kind} key. */
    public String wire() {
        return wire;
    }

    /**
     * Parses a wire name.
     *
     * @throws MalformedEnvelopeException if {@code s} is null or not one of the four wire names
     */
    public static Kind fromWire(String s) {
        Kind k = fromWireOrNull(s);
        if (k == null) {
            throw new MalformedEnvelopeException(s == null ? "missing kind" : "unknown kind '" + s + "'");
        }
        return k;
    }

    static Kind fromWireOrNull(String s) {
        if (s == null) {
            return null;
        }
        switch (s) {
            case "inbound": return INBOUND;
            case "outbound": return OUTBOUND;
            case "tool_request": return TOOL_REQUEST;
            case "tool_reply": return TOOL_REPLY;
            default: return null;
        }
    }
}
