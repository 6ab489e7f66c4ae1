package io.sgstreams.core.consume;

import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolRequest;

/**
 * One envelope a handler wants published. {@code stream} null means "where its kind goes":
 * outbound to its platform's stream, a tool request to the tools stream, inbound to the inbound
 * stream. Tool replies name their stream (the request's {@code reply_to}).
 */
public record Reply(String stream, Envelope envelope) {
  public Reply {
    if (envelope == null) {
      throw new IllegalArgumentException("reply envelope must not be null");
    }
  }

  public static Reply outbound(OutboundEnvelope env) {
    return new Reply(null, env);
  }

  public static Reply toolRequest(ToolRequest env) {
    return new Reply(null, env);
  }

  public static Reply to(String stream, Envelope env) {
    if (stream == null || stream.isBlank()) {
      throw new IllegalArgumentException("reply stream must not be empty");
    }
    return new Reply(stream, env);
  }
}
