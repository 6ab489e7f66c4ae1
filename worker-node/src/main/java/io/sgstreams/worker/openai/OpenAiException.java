package io.sgstreams.worker.openai;

/**
 * The model API could not give a usable answer; {@code status} is the HTTP status, or 0 when there
 * was none. The message is for the log (it may quote the API's answer); {@link #code()} is what a
 * user's error reply says.
 */
public final class OpenAiException extends RuntimeException {
  /** The model kept asking for tools past {@code SG_OPENAI_MAX_TOOL_ROUNDS}. */
  public static final String TOOL_ROUNDS = "too_many_tool_rounds";

  private final int status;
  private final String code;

  public OpenAiException(String message, int status, Throwable cause) {
    this(message, status, cause, status == 429 ? "upstream_busy" : "upstream_unavailable");
  }

  public OpenAiException(String message, int status, Throwable cause, String code) {
    super(message, cause);
    this.status = status;
    this.code = code;
  }

  /** A stable code for the user's error reply: {@code upstream_unavailable}, {@code upstream_busy}, {@link #TOOL_ROUNDS}. */
  public String code() {
    return code;
  }

  public int status() {
    return status;
  }

  /** 429 and 5xx: worth another try after a pause. */
  public boolean retryable() {
    return status == 429 || status >= 500;
  }
}
