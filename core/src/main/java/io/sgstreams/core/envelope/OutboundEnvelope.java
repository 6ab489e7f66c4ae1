package io.sgstreams.core.envelope;

import java.util.List;
import java.util.Map;
import org.msgpack.value.Value;

/**
 * A reply from a worker to a platform ({@code kind: "outbound"}).
 *
 * <p>Required: {@code id}, {@code correlationId}, {@code platform}, {@code channelId}, {@code type},
 * {@code inReplyTo} (all non-empty) and {@code content} (non-null, may be empty). {@code messageKey} is the
 * gateway's idempotency key for delivery; when null it defaults to {@code inReplyTo} (the same default the
 * decoder applies when the key is absent), and it is always written.
 */
public record OutboundEnvelope(
        int v,
        String id,
        String correlationId,
        String platform,
        String channelId,
        String tenantId,
        long enqueuedAt,
        Long deadline,
        Map<String, String> headers,
        String type,
        String inReplyTo,
        String content,
        List<Attachment> attachments,
        String messageKey,
        Integer seq,
        Integer attempt,
        ToolError error,
        Map<String, Value> extra) implements Envelope {

    /** {@code type} of an ordinary reply message. */
    public static final String TYPE_MESSAGE = "message";
    /** {@code type} of an error reply (it carries {@code error: {code, message}}). */
    public static final String TYPE_ERROR = "error";
    /** {@code type} of one part of a streamed answer: {@code content} is the text since the previous delta. */
    public static final String TYPE_DELTA = "delta";
    /** {@code type} of the progress event telling that a tool is being run; {@code content} is its name. */
    public static final String TYPE_TOOL_CALL = "tool_call";

    /** True for the types that are progress on the way to an answer (deltas, tool calls), not the answer. */
    public boolean isProgress() {
        return TYPE_DELTA.equals(type) || TYPE_TOOL_CALL.equals(type);
    }

    public OutboundEnvelope {
        Checks.version(v);
        Checks.notEmpty(id, "id");
        Checks.notEmpty(correlationId, "correlationId");
        Checks.notEmpty(platform, "platform");
        Checks.notEmpty(channelId, "channelId");
        Checks.notEmptyIfSet(tenantId, "tenantId");
        headers = Checks.headers(headers);
        Checks.notEmpty(type, "type");
        Checks.notEmpty(inReplyTo, "inReplyTo");
        Checks.notNull(content, "content");
        attachments = Checks.attachments(attachments);
        messageKey = messageKey == null ? inReplyTo : Checks.notEmpty(messageKey, "messageKey");
        if (seq != null && seq < 0 || attempt != null && attempt < 0) {
            throw new IllegalArgumentException("seq and attempt must not be negative");
        }
        extra = ExtraFields.normalize(extra, Kind.OUTBOUND);
    }

    /** Same as {@code replyTo(in, type, content, 0)}. */
    public static OutboundEnvelope replyTo(InboundEnvelope in, String type, String content) {
        return replyTo(in, type, content, 0);
    }

    /**
     * The {@code seq}-th reply of {@code type} to {@code in}: a fresh id; {@code correlationId}, {@code platform},
     * {@code channelId}, {@code tenantId} (so the reply goes back to its tenant only), {@code enqueuedAt}, {@code deadline} and {@code headers} (so {@code traceparent} flows)
     * copied from {@code in}; {@code inReplyTo = in.id()}; and the deterministic {@link #messageKey(String,
     * String, int) message key}, so a handler that is retried for the same inbound envelope produces the same key
     * and the gateway can drop the duplicate delivery.
     *
     * @param seq 0 for the first (usually only) reply of this type; 1, 2, ... for further ones (e.g. chunks)
     */
    public static OutboundEnvelope replyTo(InboundEnvelope in, String type, String content, int seq) {
        Checks.notNull(in, "in");
        return new OutboundEnvelope(SCHEMA_VERSION, Ids.newId(), in.correlationId(), in.platform(), in.channelId(),
                in.tenantId(), in.enqueuedAt(), in.deadline(), in.headers(), type, in.id(), content, null,
                messageKey(in.id(), type, seq), null, null, null, null);
    }

    /**
     * Part {@code seq} (from 0) of a streamed answer to {@code in}, produced by delivery attempt
     * {@code attempt}: {@code content} is the text since the previous delta. Its message key
     * includes the attempt, so a rerun's deltas are never taken for duplicates of the first run's.
     */
    public static OutboundEnvelope delta(InboundEnvelope in, int attempt, int seq, String text) {
        return progress(in, TYPE_DELTA, attempt, seq, text);
    }

    /**
     * A progress event of {@code type} (a {@code delta}, a {@code tool_call} naming the tool being
     * run, …) while the answer to {@code in} is produced by delivery attempt {@code attempt};
     * {@code seq} counts the events of this type from 0. The message key is
     * {@code in_reply_to:type:attempt:seq}.
     */
    public static OutboundEnvelope progress(InboundEnvelope in, String type, int attempt, int seq, String content) {
        OutboundEnvelope base = replyTo(in, type, content);
        return new OutboundEnvelope(base.v, base.id, base.correlationId, base.platform, base.channelId, base.tenantId,
                base.enqueuedAt, base.deadline, base.headers, type, base.inReplyTo, content, null,
                in.id() + ":" + type + ":" + attempt + ":" + seq, seq, attempt, null, null);
    }

    /**
     * The error reply to {@code in}: {@code type: error}, {@code error: {code, message}} and the
     * message as {@code content} (for clients that show content). The message is for users:
     * never internal details.
     */
    public static OutboundEnvelope error(InboundEnvelope in, String code, String message) {
        OutboundEnvelope base = replyTo(in, TYPE_ERROR, message);
        return new OutboundEnvelope(base.v, base.id, base.correlationId, base.platform, base.channelId, base.tenantId,
                base.enqueuedAt, base.deadline, base.headers, TYPE_ERROR, base.inReplyTo, message, null, base.messageKey,
                null, null, new ToolError(code, message), null);
    }

    /**
     * The message key rule: {@code inReplyTo + ":" + type} for {@code seq == 0}, else
     * {@code inReplyTo + ":" + type + ":" + seq}.
     */
    public static String messageKey(String inReplyTo, String type, int seq) {
        Checks.notEmpty(inReplyTo, "inReplyTo");
        Checks.notEmpty(type, "type");
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0, got " + seq);
        }
        return seq == 0 ? inReplyTo + ":" + type : inReplyTo + ":" + type + ":" + seq;
    }

    @Override
    public Kind kind() {
        return Kind.OUTBOUND;
    }

    public OutboundEnvelope withAttachments(List<Attachment> attachments) {
        return new OutboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers, type,
                inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
    }

    public OutboundEnvelope withDeadline(Long deadline) {
        return new OutboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers, type,
                inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
    }

    public OutboundEnvelope withHeaders(Map<String, String> headers) {
        return new OutboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers, type,
                inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
    }

    /** A copy with one header added or replaced. */
    public OutboundEnvelope withHeader(String name, String value) {
        return withHeaders(Envelopes.plus(headers, name, value));
    }

    public OutboundEnvelope withMessageKey(String messageKey) {
        return new OutboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers, type,
                inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
    }

    public OutboundEnvelope withExtra(Map<String, Value> extra) {
        return new OutboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers, type,
                inReplyTo, content, attachments, messageKey, seq, attempt, error, extra);
    }
}
