package io.sgstreams.core.bus;

/** Stream entry ids ({@code <ms>-<seq>}): comparison, successor, timestamp. */
public final class EntryIds {
  /** Lower than any id Redis generates ({@code XADD … MINID 0-1} trims nothing). */
  public static final String FIRST = "0-1";

  private EntryIds() {}

  /** True for a well-formed id {@code ms-seq} (or a bare {@code ms}), each part at most 20 digits. */
  public static boolean valid(String id) {
    return id != null && id.length() <= 41 && id.matches("[0-9]{1,20}(-[0-9]{1,20})?");
  }

  public static long millis(String id) {
    int dash = id.indexOf('-');
    return Long.parseUnsignedLong(dash < 0 ? id : id.substring(0, dash));
  }

  public static long sequence(String id) {
    int dash = id.indexOf('-');
    return dash < 0 ? 0 : Long.parseUnsignedLong(id.substring(dash + 1));
  }

  /** Orders ids as Redis does (numerically by milliseconds, then sequence). */
  public static int compare(String a, String b) {
    int c = Long.compareUnsigned(millis(a), millis(b));
    return c != 0 ? c : Long.compareUnsigned(sequence(a), sequence(b));
  }

  public static String min(String a, String b) {
    if (a == null) return b;
    if (b == null) return a;
    return compare(a, b) <= 0 ? a : b;
  }

  /** The smallest id greater than {@code id}. */
  public static String successor(String id) {
    long ms = millis(id);
    long seq = sequence(id);
    if (seq == -1L) {
      return (ms + 1) + "-0";
    }
    return Long.toUnsignedString(ms) + "-" + Long.toUnsignedString(seq + 1);
  }
}
