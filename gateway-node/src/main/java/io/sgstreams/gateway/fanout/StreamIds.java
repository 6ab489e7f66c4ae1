package io.sgstreams.gateway.fanout;

/** Stream entry ids ({@code ms-seq}): parsing and ordering. */
public final class StreamIds {
  private StreamIds() {}

  /** True for a well-formed id {@code ms-seq} (or a bare {@code ms}). */
  public static boolean valid(String id) {
    return id != null && id.length() <= 41 && id.matches("[0-9]{1,20}(-[0-9]{1,20})?");
  }

  /** Orders two valid ids numerically. */
  public static int compare(String a, String b) {
    long[] x = parse(a);
    long[] y = parse(b);
    int c = Long.compareUnsigned(x[0], y[0]);
    return c != 0 ? c : Long.compareUnsigned(x[1], y[1]);
  }

  private static long[] parse(String id) {
    int dash = id.indexOf('-');
    if (dash < 0) {
      return new long[] {Long.parseUnsignedLong(id), 0};
    }
    return new long[] {Long.parseUnsignedLong(id.substring(0, dash)), Long.parseUnsignedLong(id.substring(dash + 1))};
  }
}
