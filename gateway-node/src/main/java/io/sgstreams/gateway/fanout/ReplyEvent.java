package io.sgstreams.gateway.fanout;

import io.sgstreams.core.envelope.OutboundEnvelope;

/** One outbound entry as the gateway hands it out: the stream it came from, its entry id and the reply. */
public record ReplyEvent(String stream, String streamId, OutboundEnvelope reply) {}
