package io.sgstreams.worker.tools;

/** Too many tool calls are waiting on this worker; the call was refused without publishing anything. */
public final class ToolsBusyException extends ToolCallException {
  public ToolsBusyException(String tool, int limit) {
    super(limit + " tool calls already waiting", tool, null, null);
  }

  @Override
  public String code() {
    return "tools_busy";
  }
}
