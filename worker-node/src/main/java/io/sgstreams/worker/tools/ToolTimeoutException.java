package io.sgstreams.worker.tools;

import java.time.Duration;

/** No reply came before the call's deadline; the waiting entry was removed, a later reply counts as late. */
public final class ToolTimeoutException extends ToolCallException {
  private final Duration timeout;

  public ToolTimeoutException(String tool, String correlationId, Duration timeout) {
    super("no reply within " + timeout.toMillis() + " ms", tool, correlationId, null);
    this.timeout = timeout;
  }

  public Duration timeout() {
    return timeout;
  }

  @Override
  public String code() {
    return "tool_timeout";
  }
}
