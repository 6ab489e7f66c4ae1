package io.sgstreams.worker.tools;

/** The tools client was closed (the worker is shutting down) while the call waited, or before it started. */
public final class ToolsClosedException extends ToolCallException {
  public ToolsClosedException(String tool, String correlationId) {
    super("tools client closed", tool, correlationId, null);
  }

  @Override
  public String code() {
    return "tools_closed";
  }
}
