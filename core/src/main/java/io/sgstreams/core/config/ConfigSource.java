package io.sgstreams.core.config;

import java.nio.file.Path;

/**
 * Where a setting's effective value came from.
 *
 * @param where the file path (FILE), the variable (ENV), or what an unset default means (DEFAULT, may be null)
 */
public record ConfigSource(Kind kind, String where) {
  public enum Kind { DEFAULT, FILE, ENV }

  public static ConfigSource defaults(String note) {
    return new ConfigSource(Kind.DEFAULT, note);
  }

  public static ConfigSource file(Path path) {
    return new ConfigSource(Kind.FILE, path.toString());
  }

  public static ConfigSource env(String variable) {
    return new ConfigSource(Kind.ENV, variable);
  }

  /** {@code default}, {@code default (the host name)}, the file path, or {@code $VARIABLE}. */
  @Override
  public String toString() {
    return switch (kind) {
      case DEFAULT -> where == null ? "default" : "default (" + where + ")";
      case FILE -> where;
      case ENV -> "$" + where;
    };
  }
}
