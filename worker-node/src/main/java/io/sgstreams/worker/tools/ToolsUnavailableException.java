package io.sgstreams.worker.tools;

import io.sgstreams.core.resilience.Guard;

/**
 * The call was refused at once without publishing: the circuit breaker around tool calls is open
 * (the tools nodes failed or timed out too often lately) or too many calls are in progress.
 */
public final class ToolsUnavailableException extends ToolCallException {
  public ToolsUnavailableException(String tool, Guard.Refused cause) {
    super(cause.getMessage(), tool, null, cause);
  }

  @Override
  public String code() {
    return "tools_unavailable";
  }
}
