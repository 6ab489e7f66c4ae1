package io.sgstreams.core.envelope;

import java.util.List;
import java.util.Map;
import org.msgpack.value.Value;

/**
 * A message from a platform user to the workers ({@code kind: "inbound"}).
 *
 * <p>Required: {@code id}, {@code correlationId}, {@code platform}, {@code channelId} (all non-empty),
 * {@code userId} and {@code content} (non-null, may be empty). {@code tenantId} is null (absent, read as
 * {@link #DEFAULT_TENANT}) or non-empty. Null {@code headers}, {@code attachments},
 * {@code metadata} and {@code extra} become empty; {@code replyTo}, when set, must be non-empty.
 * {@code metadata} is converted to canonical form (see {@link EnvelopeCodec}); unsupported value types are
 * rejected with {@link IllegalArgumentException}.
 */
public record InboundEnvelope(
        int v,
        String id,
        String correlationId,
        String platform,
        String channelId,
        String tenantId,
        long enqueuedAt,
        Long deadline,
        Map<String, String> headers,
        String userId,
        String content,
        List<Attachment> attachments,
        String replyTo,
        Map<String, Object> metadata,
        Map<String, Value> extra) implements Envelope {

    public InboundEnvelope {
        Checks.version(v);
        Checks.notEmpty(id, "id");
        Checks.notEmpty(correlationId, "correlationId");
        Checks.notEmpty(platform, "platform");
        Checks.notEmpty(channelId, "channelId");
        Checks.notEmptyIfSet(tenantId, "tenantId");
        headers = Checks.headers(headers);
        Checks.notNull(userId, "userId");
        Checks.notNull(content, "content");
        attachments = Checks.attachments(attachments);
        Checks.notEmptyIfSet(replyTo, "replyTo");
        metadata = FreeForm.freezeMap(metadata, "metadata");
        extra = ExtraFields.normalize(extra, Kind.INBOUND);
    }

    /** A new inbound envelope: fresh UUIDv7 id, {@code correlationId = id}, {@code enqueuedAt = now}. */
    public static InboundEnvelope create(String platform, String channelId, String userId, String content) {
        String id = Ids.newId();
        return new InboundEnvelope(SCHEMA_VERSION, id, id, platform, channelId, null, System.currentTimeMillis(), null,
                null, userId, content, null, null, null, null);
    }

    @Override
    public Kind kind() {
        return Kind.INBOUND;
    }

    /** A copy owned by {@code tenantId} (the gateway sets it from the caller's key). */
    public InboundEnvelope withTenant(String tenantId) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    public InboundEnvelope withCorrelationId(String correlationId) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    public InboundEnvelope withAttachments(List<Attachment> attachments) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    public InboundEnvelope withDeadline(Long deadline) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    public InboundEnvelope withHeaders(Map<String, String> headers) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    /** A copy with one header added or replaced. */
    public InboundEnvelope withHeader(String name, String value) {
        return withHeaders(Envelopes.plus(headers, name, value));
    }

    public InboundEnvelope withMetadata(Map<String, ?> metadata) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, FreeForm.freezeMap(metadata, "metadata"), extra);
    }

    public InboundEnvelope withReplyTo(String replyTo) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }

    public InboundEnvelope withExtra(Map<String, Value> extra) {
        return new InboundEnvelope(v, id, correlationId, platform, channelId, tenantId, enqueuedAt, deadline, headers,
                userId, content, attachments, replyTo, metadata, extra);
    }
}
