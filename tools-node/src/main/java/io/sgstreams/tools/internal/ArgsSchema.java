package io.sgstreams.tools.internal;

import io.sgstreams.tools.Args;
import io.sgstreams.tools.BadArgumentsException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * The part of a tool's JSON schema checked before the tool runs, so every tool answers missing
 * or mistyped arguments the same way ({@code bad_arguments}): top-level {@code required},
 * {@code properties.*.type} (a name or a list of names) and {@code additionalProperties: false}.
 * Anything else in the schema is left to the tool; a schema it cannot read is not checked.
 */
public final class ArgsSchema {
  private ArgsSchema() {}

  /** @throws BadArgumentsException naming the first argument at fault */
  public static void check(Map<String, Object> schema, Map<String, Object> args) {
    if (schema == null) {
      return;
    }
    Map<String, Object> a = args == null ? Map.of() : args;
    if (schema.get("required") instanceof List<?> required) {
      for (Object name : required) {
        if (name instanceof String n && a.get(n) == null) {
          throw new BadArgumentsException("missing required argument '" + n + "'");
        }
      }
    }
    Map<?, ?> properties = schema.get("properties") instanceof Map<?, ?> p ? p : Map.of();
    for (Map.Entry<String, Object> e : a.entrySet()) {
      Object spec = properties.get(e.getKey());
      if (spec == null) {
        if (Boolean.FALSE.equals(schema.get("additionalProperties"))) {
          throw new BadArgumentsException("unknown argument '" + e.getKey() + "'; expected "
              + (properties.isEmpty() ? "none" : String.join(", ", properties.keySet().stream().map(String::valueOf).toList())));
        }
        continue;
      }
      if (spec instanceof Map<?, ?> s && s.get("type") != null && !matchesAny(s.get("type"), e.getValue())) {
        throw new BadArgumentsException("argument '" + e.getKey() + "' must be " + describe(s.get("type")) + ", got "
            + Args.typeName(e.getValue()));
      }
    }
  }

  private static boolean matchesAny(Object type, Object value) {
    if (type instanceof List<?> types) {
      return types.stream().anyMatch(t -> matches(t, value));
    }
    return matches(type, value);
  }

  private static boolean matches(Object type, Object v) {
    if (!(type instanceof String t)) {
      return true;
    }
    return switch (t) {
      case "string" -> v instanceof String;
      case "integer" -> v instanceof Long || v instanceof Integer || v instanceof BigInteger
          || (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d));
      case "number" -> v instanceof Number;
      case "boolean" -> v instanceof Boolean;
      case "object" -> v instanceof Map;
      case "array" -> v instanceof List;
      case "null" -> v == null;
      default -> true; // a type we don't know is the tool's business
    };
  }

  private static String describe(Object type) {
    if (type instanceof List<?> l) {
      return "one of " + String.join(", ", l.stream().map(String::valueOf).toList());
    }
    String t = String.valueOf(type);
    return (t.startsWith("a") || t.startsWith("o") || t.startsWith("i") ? "an " : "a ") + t;
  }
}
