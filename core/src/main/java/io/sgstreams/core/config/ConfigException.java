package io.sgstreams.core.config;

/**
 * A configuration value that cannot be used. The message names the key or variable it was given
 * as, the value and the problem, and, for a setting of the tree, both its {@code streams.yaml}
 * key and its variable ({@code SG_READ_COUNT='lots' (consumer.read_count): must be an integer}).
 */
public final class ConfigException extends RuntimeException {
  private final String key;
  private final String value;
  private final String setting;
  private final String variable;

  public ConfigException(String key, String value, String problem) {
    this(key, value, key + "=" + quote(value) + ": " + problem, null, null);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
    this.key = null;
    this.value = null;
    this.setting = null;
    this.variable = null;
  }

  private ConfigException(String key, String value, String message, String setting, String variable) {
    super(message);
    this.key = key;
    this.value = value;
    this.setting = setting;
    this.variable = variable;
  }

  /** A bad value of {@code s}, given as {@code source} says. */
  static ConfigException of(Setting<?> s, ConfigSource source, String value, String problem) {
    String message = switch (source.kind()) {
      case ENV -> source.where() + "=" + quote(value) + " ("
          + (source.where().equals(s.env()) ? s.key() : "former name of " + s.env() + ", " + s.key()) + "): " + problem;
      case FILE -> s.key() + "=" + quote(value) + " in " + source.where() + " (or " + s.env() + "): " + problem;
      case DEFAULT -> s.key() + " default " + quote(value) + ": " + problem;
    };
    String key = source.kind() == ConfigSource.Kind.ENV ? source.where() : s.key();
    return new ConfigException(key, value, message, s.key(), s.env());
  }

  /** The streams.yaml key or environment variable at fault, as the user gave it; null for a file-level error. */
  public String key() {
    return key;
  }

  public String value() {
    return value;
  }

  /** The setting's streams.yaml key, when the error is about one of the tree's settings. */
  public String setting() {
    return setting;
  }

  /** The setting's environment variable, when the error is about one of the tree's settings. */
  public String variable() {
    return variable;
  }

  private static String quote(String value) {
    return value == null ? "<unset>" : "'" + value + "'";
  }
}
