package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.envelope.Attachment;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.trace.TraceParent;
import java.util.Base64;

/** The reply's JSON shape, shared by POST, SSE, WebSocket and webhook, on core's one JSON mapper. */
public final class Json {
  private Json() {}

  public static ObjectNode object() {
    return io.sgstreams.core.json.Json.object();
  }

  public static JsonNode readTree(byte[] json) throws java.io.IOException {
    return io.sgstreams.core.json.Json.readTree(json);
  }

  public static JsonNode readTree(String json) throws java.io.IOException {
    return io.sgstreams.core.json.Json.readTree(json);
  }

  /**
   * {@code {id, in_reply_to, correlation_id, type, content, channel_id, platform, message_key,
   * stream_id, traceparent?, seq?, attempt?, error?, attachments?}}: {@code traceparent} when the
   * reply carries one (the worker's span of the message's trace); {@code seq} and {@code attempt} on the
   * progress types ({@code delta}, {@code tool_call}), {@code error: {code, message}} on
   * {@code error} replies; attachments' data as base64.
   */
  public static ObjectNode reply(OutboundEnvelope o, String streamId) {
    ObjectNode n = object()
        .put("id", o.id())
        .put("in_reply_to", o.inReplyTo())
        .put("correlation_id", o.correlationId())
        .put("type", o.type())
        .put("content", o.content())
        .put("channel_id", o.channelId())
        .put("platform", o.platform())
        .put("message_key", o.messageKey())
        .put("stream_id", streamId);
    String traceparent = o.headers().get(TraceParent.HEADER);
    if (traceparent != null) {
      n.put("traceparent", traceparent);
    }
    if (o.seq() != null) {
      n.put("seq", o.seq());
    }
    if (o.attempt() != null) {
      n.put("attempt", o.attempt());
    }
    if (o.error() != null) {
      n.putObject("error").put("code", o.error().code()).put("message", o.error().message());
    }
    if (!o.attachments().isEmpty()) {
      ArrayNode a = n.putArray("attachments");
      for (Attachment at : o.attachments()) {
        a.addObject().put("name", at.name()).put("mime", at.mime())
            .put("data", Base64.getEncoder().encodeToString(at.data()));
      }
    }
    return n;
  }

  public static String write(Object node) {
    return io.sgstreams.core.json.Json.write(node);
  }
}
