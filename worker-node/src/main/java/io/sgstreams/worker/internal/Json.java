package io.sgstreams.worker.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON rendering of free-form values (tool results, arguments) as users and models read them. */
public final class Json {
  private Json() {}

  public static ObjectNode object() {
    return io.sgstreams.core.json.Json.object();
  }

  public static ArrayNode array() {
    return io.sgstreams.core.json.Json.array();
  }

  public static byte[] writeBytes(Object value) {
    return io.sgstreams.core.json.Json.writeBytes(value);
  }

  public static JsonNode readTree(byte[] json) throws java.io.IOException {
    return io.sgstreams.core.json.Json.readTree(json);
  }

  /**
   * {@code value} as JSON text. A double with an integral value is written as an integer
   * ({@code 42.0} as {@code 42}): a tool may compute in floating point, users expect {@code 42}.
   */
  public static String render(Object value) {
    try {
      return io.sgstreams.core.json.Json.write(normalize(value));
    } catch (java.io.UncheckedIOException e) {
      return String.valueOf(value);
    }
  }

  /** Parses a JSON object; fails with {@link IllegalArgumentException} saying what is wrong. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    if (text == null || text.isBlank()) {
      return Map.of();
    }
    Object o;
    try {
      o = io.sgstreams.core.json.Json.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("arguments are not valid JSON: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("arguments are not valid JSON: " + e.getMessage());
    }
    if (!(o instanceof Map)) {
      throw new IllegalArgumentException("arguments must be a JSON object, got " + (o == null ? "null" : text.trim()));
    }
    return (Map<String, Object>) o;
  }

  static Object normalize(Object v) {
    if (v instanceof Double d && !d.isInfinite() && d == Math.rint(d) && Math.abs(d) < 9.007199254740992E15) {
      return d.longValue();
    }
    if (v instanceof Map<?, ?> m) {
      Map<Object, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(k, normalize(x)));
      return out;
    }
    if (v instanceof List<?> l) {
      return l.stream().map(Json::normalize).toList();
    }
    return v;
  }
}
