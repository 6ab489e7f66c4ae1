package io.sgstreams.core.envelope;

import java.util.Map;
import org.msgpack.value.Value;

/**
 * A message travelling on the streams, serialised by {@link EnvelopeCodec} as a MessagePack map
 * (see docs/envelope.md and the "Envelope" section of the wire contract).
 *
 * <p>All implementations are immutable records. Maps and lists they expose are unmodifiable and never
 * null.
 */
public sealed interface Envelope permits InboundEnvelope, OutboundEnvelope, ToolRequest, ToolReply {

    /** The envelope schema version this code writes and the highest it reads. */
    int SCHEMA_VERSION = 1;

    /** Schema version ({@code v}). */
    int v();

    /** Unique id of this envelope ({@code id}), a UUIDv7 string when created by this library. */
    String id();

    /** The kind ({@code kind}). */
    Kind kind();

    /** Ties replies to their request ({@code correlation_id}). */
    String correlationId();

    /** {@code platform}: required (non-empty) on inbound/outbound, nullable on tool kinds. */
    String platform();

    /** {@code channel_id}: required (non-empty) on inbound/outbound, nullable on tool kinds. */
    String channelId();

    /**
     * {@code tenant_id}: the tenant whose conversation this is (inbound: set by the gateway from the
     * caller's key, never from a client; outbound: copied from the request), or null when absent.
     */
    default String tenantId() {
        return null;
    }

    /** The tenant, {@link #DEFAULT_TENANT} when {@code tenant_id} is absent (auth off, a foreign publisher). */
    default String tenant() {
        String t = tenantId();
        return t == null ? DEFAULT_TENANT : t;
    }

    /** The tenant of callers without one (auth off, a bare key) and of envelopes without {@code tenant_id}. */
    String DEFAULT_TENANT = "default";

    /** {@code enqueued_at}: epoch ms when the original request entered the system. */
    long enqueuedAt();

    /** {@code deadline}: epoch ms after which the work is useless, or null. */
    Long deadline();

    /** {@code headers}: free string metadata (e.g. {@code traceparent}); never null, unmodifiable. */
    Map<String, String> headers();

    /**
     * Top-level keys this version does not know, in wire order. When the envelope came from
     * {@link EnvelopeCodec#decode}, re-encoding writes each value back byte for byte. Never null, unmodifiable.
     */
    Map<String, Value> extra();

    /** True when {@code deadline} is set and {@code nowMillis} is past it. */
    default boolean isExpired(long nowMillis) {
        Long d = deadline();
        return d != null && nowMillis > d;
    }
}
