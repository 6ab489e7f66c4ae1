package io.sgstreams.core.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The project's one JSON mapper, configured once here and never exposed, so nothing can
 * reconfigure it under another user (an {@code ObjectMapper} is mutable and thread-safe only
 * once configured). Every module reads and writes JSON through these methods.
 */
public final class Json {
  private static final ObjectMapper MAPPER = JsonMapper.builder().build();

  private Json() {}

  public static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  public static ArrayNode array() {
    return MAPPER.createArrayNode();
  }

  /** {@code value} (a tree, a map, a record…) as JSON text. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] writeBytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses JSON; a {@link JsonProcessingException} says where it is malformed. */
  public static JsonNode readTree(byte[] json) throws IOException {
    return MAPPER.readTree(json);
  }

  public static JsonNode readTree(String json) throws IOException {
    return MAPPER.readTree(json);
  }

  public static <T> T readValue(String json, Class<T> type) throws IOException {
    return MAPPER.readValue(json, type);
  }

  /** A plain value (maps, lists, numbers, strings) as a tree. */
  public static JsonNode toTree(Object value) {
    return MAPPER.valueToTree(value);
  }

  /** A tree as plain Java values (maps, lists, …) or {@code type}. */
  public static <T> T convert(Object value, Class<T> type) {
    return MAPPER.convertValue(value, type);
  }
}
