package io.sgstreams.core.envelope;

import java.util.Map;
import java.util.Objects;
import org.msgpack.value.Value;

/**
 * The answer of a tools node ({@code kind: "tool_reply"}).
 *
 * <p>{@code ok} tells success from failure; {@code error} is required when {@code ok} is false. {@code result}
 * is any free-form value (converted to canonical form, see {@link EnvelopeCodec}); it is always written when
 * {@code ok} is true (as nil when null), and only when non-null otherwise.
 * Equality compares a top-level {@code byte[]} result by content.
 */
public record ToolReply(
        int v,
        String id,
        String correlationId,
        String platform,
        String channelId,
        long enqueuedAt,
        Long deadline,
        Map<String, String> headers,
        boolean ok,
        Object result,
        ToolError error,
        Map<String, Value> extra) implements Envelope {

    public ToolReply {
        Checks.version(v);
        Checks.notEmpty(id, "id");
        Checks.notEmpty(correlationId, "correlationId");
        headers = Checks.headers(headers);
        result = FreeForm.freeze(result, "result", 2);
        if (!ok && error == null) {
            throw new IllegalArgumentException("error must not be null when ok is false");
        }
        extra = ExtraFields.normalize(extra, Kind.TOOL_REPLY);
    }

    /**
     * A successful reply: fresh id; {@code correlationId}, {@code platform}, {@code channelId},
     * {@code enqueuedAt}, {@code deadline} and {@code headers} copied from {@code req}.
     */
    public static ToolReply success(ToolRequest req, Object result) {
        Checks.notNull(req, "req");
        return new ToolReply(SCHEMA_VERSION, Ids.newId(), req.correlationId(), req.platform(), req.channelId(),
                req.enqueuedAt(), req.deadline(), req.headers(), true, result, null, null);
    }

    /** A failed reply, like {@link #success} but with {@code ok = false} and {@code error = {code, message}}. */
    public static ToolReply failure(ToolRequest req, String code, String message) {
        Checks.notNull(req, "req");
        return new ToolReply(SCHEMA_VERSION, Ids.newId(), req.correlationId(), req.platform(), req.channelId(),
                req.enqueuedAt(), req.deadline(), req.headers(), false, null, new ToolError(code, message), null);
    }

    @Override
    public Kind kind() {
        return Kind.TOOL_REPLY;
    }

    public ToolReply withHeaders(Map<String, String> headers) {
        return new ToolReply(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, ok, result,
                error, extra);
    }

    public ToolReply withExtra(Map<String, Value> extra) {
        return new ToolReply(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, ok, result,
                error, extra);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ToolReply)) {
            return false;
        }
        ToolReply r = (ToolReply) o;
        return v == r.v && enqueuedAt == r.enqueuedAt && ok == r.ok
                && id.equals(r.id) && correlationId.equals(r.correlationId)
                && Objects.equals(platform, r.platform) && Objects.equals(channelId, r.channelId)
                && Objects.equals(deadline, r.deadline) && headers.equals(r.headers)
                && FreeForm.deepEquals(result, r.result) && Objects.equals(error, r.error)
                && extra.equals(r.extra);
    }

    @Override
    public int hashCode() {
        return Objects.hash(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, ok,
                FreeForm.deepHashCode(result), error, extra);
    }

    @Override
    public String toString() {
        return "ToolReply[v=" + v + ", id=" + id + ", correlationId=" + correlationId + ", platform=" + platform
                + ", channelId=" + channelId + ", enqueuedAt=" + enqueuedAt + ", deadline=" + deadline
                + ", headers=" + headers + ", ok=" + ok + ", result=" + FreeForm.toString(result)
                + ", error=" + error + ", extra=" + extra + "]";
    }
}
