package io.sgstreams.tools.calc;

/**
 * An expression the calculator refuses: a syntax error, a bound exceeded, or an undefined result
 * (division by zero, overflow). {@link #position()} is the 1-based character position at fault.
 */
public final class CalcException extends RuntimeException {
  private final int position;

  public CalcException(String problem, int position) {
    super(problem + " at position " + position);
    this.position = position;
  }

  /** 1-based character position of the offending token (length + 1 for "end of input"). */
  public int position() {
    return position;
  }
}
