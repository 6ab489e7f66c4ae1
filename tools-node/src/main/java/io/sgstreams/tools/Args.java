package io.sgstreams.tools;

import java.util.Map;

/** Typed access to a call's arguments; every mistake is a {@link BadArgumentsException} naming the argument. */
public final class Args {
  private Args() {}

  /** A required string argument. */
  public static String requireString(Map<String, Object> args, String name) {
    Object v = args == null ? null : args.get(name);
    if (v == null) {
      throw new BadArgumentsException("missing required argument '" + name + "' (string)");
    }
    if (!(v instanceof String s)) {
      throw new BadArgumentsException("argument '" + name + "' must be a string, got " + typeName(v));
    }
    return s;
  }

  /** An optional string argument: null when absent. */
  public static String optionalString(Map<String, Object> args, String name) {
    Object v = args == null ? null : args.get(name);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new BadArgumentsException("argument '" + name + "' must be a string, got " + typeName(v));
    }
    return s;
  }

  /** The JSON-ish type name of a decoded value, for error messages. */
  public static String typeName(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof String) {
      return "string";
    }
    if (v instanceof Boolean) {
      return "boolean";
    }
    if (v instanceof Number) {
      return "number";
    }
    if (v instanceof Map) {
      return "object";
    }
    if (v instanceof java.util.List) {
      return "array";
    }
    if (v instanceof byte[]) {
      return "bytes";
    }
    return v.getClass().getSimpleName();
  }
}
