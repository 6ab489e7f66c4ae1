package io.sgstreams.core.consume;

/**
 * A failure that no redelivery can fix (bad input, an unknown kind): the entry is dead-lettered
 * at once instead of after the delivery limit.
 */
public class PermanentFailure extends RuntimeException {
  public PermanentFailure(String message) {
    super(message);
  }

  public PermanentFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
