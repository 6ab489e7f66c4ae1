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

  /**
   * {@code name:{tag}}: a key of one partition. Redis Cluster hashes only the text between the
   * first {@code '{'} and the next {@code '}'}, so {@code name} must not contain a brace (it would
   * open a tag of its own, or swallow ours) and the tag must be a plain segment without braces.
   */
  public static String tagged(String name, String tag) {
    requireNoBraces("stream key", name);
    requireSegment(tag);
    requireNoBraces("hash tag", tag);
    return child(name, "{" + tag + "}");
  }

  /** {@code value}, unless it contains {@code '{'} or {@code '}'} (see {@link #tagged}). */
  public static String requireNoBraces(String what, String value) {
    if (value != null && (value.indexOf('{') >= 0 || value.indexOf('}') >= 0)) {
      throw new IllegalArgumentException(
          what + " '" + value + "' must not contain '{' or '}': in Redis Cluster they form a hash tag");
    }
    return value;
  }

  /**
   * A user-supplied part (an idempotency key, a caller id, a tenant) made safe to append to a key:
   * {@code '%'}, {@code '{'}, {@code '}'}, {@code ':'}, whitespace and control characters become
   * {@code %XX} (the UTF-8 bytes, upper-case hex), everything else is kept. The result is a valid
   * {@link #requireSegment segment}, can never open or close a hash tag (so it cannot move the key
   * to another slot, whatever the user sends), and distinct well-formed inputs (no lone surrogate) give distinct results (escaping
   * {@code '%'} itself keeps it injective). Keys built from untrusted text go through this.
   */
  public static String safeSegment(String userPart) {
    if (userPart == null || userPart.isEmpty()) {
      throw new IllegalArgumentException("a user-supplied key segment must not be empty");
    }
    StringBuilder out = null;
    for (int i = 0; i < userPart.length(); ) {
      int cp = userPart.codePointAt(i);
      int n = Character.charCount(cp);
      boolean escape = cp == '%' || cp == '{' || cp == '}' || cp == SEPARATOR
          || Character.isWhitespace(cp) || Character.isISOControl(cp) || Character.isSpaceChar(cp);
      if (escape) {
        if (out == null) {
          out = new StringBuilder(userPart.length() + 8).append(userPart, 0, i);
        }
        for (byte b : new String(Character.toChars(cp)).getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
          out.append('%').append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
        }
      } else if (out != null) {
        out.append(userPart, i, i + n);
      }
      i += n;
    }
    return out == null ? userPart : out.toString();
  }

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();
}
