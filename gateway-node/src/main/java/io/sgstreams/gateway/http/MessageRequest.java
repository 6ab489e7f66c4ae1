package io.sgstreams.gateway.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.envelope.Attachment;
import io.sgstreams.core.envelope.InboundEnvelope;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A validated client message ({@code POST /v1/messages} body or WebSocket {@code message} frame):
 * {@code {platform="web", channel_id, user_id, content, attachments?: [{name, mime, data}],
 * correlation_id?}}. Parsing fails with a 4xx {@link ApiError} naming the field; nothing
 * partially valid gets through.
 */
public record MessageRequest(String platform, String channelId, String userId, String content,
    List<Attachment> attachments, String correlationId) {

  static final int MAX_ID_CHARS = 256;
  private static final Set<String> FIELDS =
      Set.of("type", "platform", "channel_id", "user_id", "content", "attachments", "correlation_id");

  /** Parses and validates raw JSON bytes. */
  public static MessageRequest parse(byte[] body, Collection<String> platforms, int maxContentChars) {
    JsonNode root;
    try {
      root = Json.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("invalid_json", "the body is not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw ApiError.badRequest("invalid_json", "the body cannot be read: " + e.getMessage());
    }
    return from(root, platforms, maxContentChars);
  }

  /** Validates an already parsed JSON object. */
  public static MessageRequest from(JsonNode root, Collection<String> platforms, int maxContentChars) {
    if (root == null || !root.isObject()) {
      throw ApiError.badRequest("invalid_body", "the body must be a JSON object");
    }
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) {
        throw ApiError.badRequest("unknown_field", "unknown field '" + f + "'");
      }
    }
    String platform = optionalString(root, "platform", "web");
    if (!platforms.contains(platform)) {
      throw ApiError.badRequest("unknown_platform", "platform '" + platform + "' is not served here; known: " + platforms);
    }
    String channel = identifier(root, "channel_id");
    String user = identifier(root, "user_id");
    String content = requiredString(root, "content");
    if (content.length() > maxContentChars) {
      throw new ApiError(413, "content_too_large", "content has " + content.length() + " characters; the limit is " + maxContentChars);
    }
    String correlation = root.has("correlation_id") && !root.get("correlation_id").isNull()
        ? identifier(root, "correlation_id") : null;
    return new MessageRequest(platform, channel, user, content, attachments(root.get("attachments")), correlation);
  }

  /** The inbound envelope for this request: fresh id; correlation id = the client's or the id. */
  public InboundEnvelope toEnvelope() {
    InboundEnvelope in = InboundEnvelope.create(platform, channelId, userId, content);
    if (correlationId != null) {
      in = in.withCorrelationId(correlationId);
    }
    return attachments.isEmpty() ? in : in.withAttachments(attachments);
  }

  private static List<Attachment> attachments(JsonNode n) {
    if (n == null || n.isNull()) {
      return List.of();
    }
    if (!n.isArray()) {
      throw ApiError.badRequest("invalid_field", "attachments must be an array");
    }
    if (n.size() > 32) {
      throw ApiError.badRequest("invalid_field", "at most 32 attachments");
    }
    List<Attachment> out = new ArrayList<>();
    for (int i = 0; i < n.size(); i++) {
      JsonNode a = n.get(i);
      String where = "attachments[" + i + "]";
      if (!a.isObject()) {
        throw ApiError.badRequest("invalid_field", where + " must be an object {name, mime, data}");
      }
      String name = requiredString(a, "name", where + ".name");
      String mime = requiredString(a, "mime", where + ".mime");
      String data = requiredString(a, "data", where + ".data");
      try {
        out.add(new Attachment(name, mime, Base64.getDecoder().decode(data)));
      } catch (IllegalArgumentException e) {
        throw ApiError.badRequest("invalid_base64", where + ".data is not valid base64");
      }
    }
    return out;
  }

  private static String identifier(JsonNode root, String field) {
    String s = requiredString(root, field);
    if (s.isBlank()) {
      throw ApiError.badRequest("missing_field", field + " must not be empty");
    }
    if (s.length() > MAX_ID_CHARS) {
      throw ApiError.badRequest("invalid_field", field + " is longer than " + MAX_ID_CHARS + " characters");
    }
    return s;
  }

  private static String requiredString(JsonNode root, String field) {
    return requiredString(root, field, field);
  }

  private static String requiredString(JsonNode root, String field, String label) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      throw ApiError.badRequest("missing_field", label + " is required");
    }
    if (!n.isTextual()) {
      throw ApiError.badRequest("invalid_type", label + " must be a string, got " + n.getNodeType().name().toLowerCase());
    }
    return n.asText();
  }

  private static String optionalString(JsonNode root, String field, String def) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return def;
    }
    if (!n.isTextual()) {
      throw ApiError.badRequest("invalid_type", field + " must be a string");
    }
    return n.asText();
  }
}
