package io.sgstreams.tools.internal;

/** How a tool call ended: the {@code error.code} of a failed reply, and the {@code outcome} metric tag. */
public enum Outcome {
  OK("ok"),
  UNKNOWN_TOOL("unknown_tool"),
  BAD_ARGUMENTS("bad_arguments"),
  TIMEOUT("timeout"),
  TOOL_ERROR("tool_error"),
  DEADLINE_EXCEEDED("deadline_exceeded");

  private final String code;

  Outcome(String code) {
    this.code = code;
  }

  /** The wire code ({@code error.code}) and metric tag. */
  public String code() {
    return code;
  }
}
