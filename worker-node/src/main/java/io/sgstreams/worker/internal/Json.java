package io.sgstreams.worker.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** JSON rendering of free-form values (tool results, arguments) as users and models read them. */
public final class Json {
  /** Thread-safe once configured; shared by the worker's handlers. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  /**
   * {@code value} as JSON text. A double with an integral value is written as an integer
   * ({@code 42.0} as {@code 42}): a tool may compute in floating point, users expect {@code 42}.
   */
  public static String render(Object value) {
    try {
      return MAPPER.writeValueAsString(normalize(value));
    } catch (JsonProcessingException e) {
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
      o = MAPPER.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("arguments are not valid JSON: " + e.getOriginalMessage());
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
