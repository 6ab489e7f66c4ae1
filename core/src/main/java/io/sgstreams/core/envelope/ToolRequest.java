package io.sgstreams.core.envelope;

import java.util.Map;
import org.msgpack.value.Value;

/**
 * A tool call from a worker to the tools nodes ({@code kind: "tool_request"}).
 *
 * <p>Required: {@code id}, {@code correlationId}, {@code tool}, {@code replyTo} (all non-empty); {@code args}
 * may be null (becomes the empty map, still written since the key is required on the wire). {@code platform}
 * and {@code channelId} are optional here.
 */
public record ToolRequest(
        int v,
        String id,
        String correlationId,
        String platform,
        String channelId,
        long enqueuedAt,
        Long deadline,
        Map<String, String> headers,
        String tool,
        Map<String, Object> args,
        String replyTo,
        Map<String, Value> extra) implements Envelope {

    public ToolRequest {
        Checks.version(v);
        Checks.notEmpty(id, "id");
        Checks.notEmpty(correlationId, "correlationId");
        headers = Checks.headers(headers);
        Checks.notEmpty(tool, "tool");
        args = FreeForm.freezeMap(args, "args");
        Checks.notEmpty(replyTo, "replyTo");
        extra = ExtraFields.normalize(extra, Kind.TOOL_REQUEST);
    }

    /**
     * A new request: fresh UUIDv7 id, {@code correlationId = id}, {@code enqueuedAt = now}, no platform/channel.
     * Use {@link #withCorrelationId} / {@link #withContext} to tie it to the conversation that caused it.
     */
    public static ToolRequest create(String tool, Map<String, ?> args, String replyTo, Long deadline) {
        String id = Ids.newId();
        return new ToolRequest(SCHEMA_VERSION, id, id, null, null, System.currentTimeMillis(), deadline, null, tool,
                FreeForm.freezeMap(args, "args"), replyTo, null);
    }

    @Override
    public Kind kind() {
        return Kind.TOOL_REQUEST;
    }

    public ToolRequest withCorrelationId(String correlationId) {
        return new ToolRequest(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, tool, args,
                replyTo, extra);
    }

    /** A copy with {@code platform} and {@code channelId} set (either may be null). */
    public ToolRequest withContext(String platform, String channelId) {
        return new ToolRequest(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, tool, args,
                replyTo, extra);
    }

    public ToolRequest withDeadline(Long deadline) {
        return new ToolRequest(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, tool, args,
                replyTo, extra);
    }

    public ToolRequest withHeaders(Map<String, String> headers) {
        return new ToolRequest(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, tool, args,
                replyTo, extra);
    }

    /** A copy with one header added or replaced. */
    public ToolRequest withHeader(String name, String value) {
        return withHeaders(Envelopes.plus(headers, name, value));
    }

    public ToolRequest withExtra(Map<String, Value> extra) {
        return new ToolRequest(v, id, correlationId, platform, channelId, enqueuedAt, deadline, headers, tool, args,
                replyTo, extra);
    }
}
