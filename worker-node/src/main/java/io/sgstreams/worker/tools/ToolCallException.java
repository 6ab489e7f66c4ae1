package io.sgstreams.worker.tools;

/** A tool call that produced no reply; carries the tool and the call's correlation id. */
public class ToolCallException extends RuntimeException {
  private final String tool;
  private final String correlationId;

  public ToolCallException(String message, String tool, String correlationId, Throwable cause) {
    super(message + " (tool " + tool + (correlationId == null ? "" : ", correlation_id " + correlationId) + ")", cause);
    this.tool = tool;
    this.correlationId = correlationId;
  }

  public String tool() {
    return tool;
  }

  /** Null when the call was refused before a request was made. */
  public String correlationId() {
    return correlationId;
  }

  /** A short code for error replies: {@code tool_timeout}, {@code tools_busy}, {@code tools_closed}, {@code tool_failed}. */
  public String code() {
    return "tool_failed";
  }
}
