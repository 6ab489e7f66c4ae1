package io.sgstreams.worker.tools;

/**
 * The call was refused without publishing anything: too many tool calls are waiting on this
 * worker, or the tools stream's backlog is full (the tools nodes are a cap behind).
 */
public final class ToolsBusyException extends ToolCallException {
  public ToolsBusyException(String tool, int limit) {
    super(limit + " tool calls already waiting", tool, null, null);
  }

  public ToolsBusyException(String tool, io.sgstreams.core.bus.BacklogFullException cause) {
    super("the tools stream is full: " + cause.backlog() + " calls not yet handled (cap " + cause.cap() + ")", tool, null, cause);
  }

  @Override
  public String code() {
    return "tools_busy";
  }
}
