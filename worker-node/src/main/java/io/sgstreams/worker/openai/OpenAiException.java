package io.sgstreams.worker.openai;

/** The model API could not give a usable answer; {@code status} is the HTTP status, or 0 when there was none. */
public final class OpenAiException extends RuntimeException {
  private final int status;

  public OpenAiException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  public int status() {
    return status;
  }

  /** 429 and 5xx: worth another try after a pause. */
  public boolean retryable() {
    return status == 429 || status >= 500;
  }
}
