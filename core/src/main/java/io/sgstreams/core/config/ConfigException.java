package io.sgstreams.core.config;

/** A configuration value that cannot be used; the message names the key (or variable) and the value. */
public final class ConfigException extends RuntimeException {
  private final String key;
  private final String value;

  public ConfigException(String key, String value, String problem) {
    super(key + "=" + (value == null ? "<unset>" : "'" + value + "'") + ": " + problem);
    this.key = key;
    this.value = value;
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
    this.key = null;
    this.value = null;
  }

  /** The streams.yaml key or environment variable at fault, or null for a file-level error. */
  public String key() {
    return key;
  }

  public String value() {
    return value;
  }
}
