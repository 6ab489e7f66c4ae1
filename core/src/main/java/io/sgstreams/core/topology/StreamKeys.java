package io.sgstreams.core.topology;

/**
 * The one place stream keys are built. Every derived key (per platform, per worker, per
 * partition later) goes through {@link #child}, so a Redis Cluster hash tag can be introduced
 * here without touching callers.
 */
public final class StreamKeys {
  public static final char SEPARATOR = ':';

  private StreamKeys() {}

  /** {@code prefix:suffix}, e.g. {@code sg:stream:outbound:web}. */
  public static String child(String prefix, String suffix) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException("stream key prefix must not be empty");
    }
    requireSegment(suffix);
    return prefix + SEPARATOR + suffix;
  }

  /** A segment that is appended to a key: non-empty, no whitespace, no separator. */
  public static String requireSegment(String segment) {
    if (segment == null || segment.isEmpty()) {
      throw new IllegalArgumentException("stream key segment must not be empty");
    }
    for (int i = 0; i < segment.length(); i++) {
      char c = segment.charAt(i);
      if (c == SEPARATOR || Character.isWhitespace(c) || Character.isISOControl(c)) {
        throw new IllegalArgumentException(
            "stream key segment '" + segment + "' must not contain ':', whitespace or control characters");
      }
    }
    return segment;
  }
}
