package io.sgstreams.tools;

/** The arguments of a call cannot be used (missing, wrong type, out of range): replied as {@code bad_arguments}. */
public class BadArgumentsException extends RuntimeException {
  public BadArgumentsException(String message) {
    super(message);
  }

  public BadArgumentsException(String message, Throwable cause) {
    super(message, cause);
  }
}
