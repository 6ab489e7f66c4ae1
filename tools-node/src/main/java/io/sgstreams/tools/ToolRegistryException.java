package io.sgstreams.tools;

/** The set of tools cannot be built (duplicate or invalid name, a provider that fails to load): a startup error. */
public final class ToolRegistryException extends RuntimeException {
  public ToolRegistryException(String message) {
    super(message);
  }

  public ToolRegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
