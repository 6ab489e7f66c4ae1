package io.sgstreams.core.trace;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A W3C Trace Context {@code traceparent} value
 * ({@code 00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>}).
 *
 * <p>It travels in the envelopes' {@code headers} under {@link #HEADER}, a key the wire contract
 * already names, so no envelope key is added and readers that do not know tracing pass it on
 * untouched. Each hop that handles a message (gateway, worker, tools node) takes the incoming
 * value's trace id, makes a span of its own ({@link #child()}) and writes that into what it sends
 * on: the parent id a downstream hop sees is the span id of the hop before it.
 *
 * <p>Ids come from {@link ThreadLocalRandom}: a span id is made per message on the hot path, and
 * trace ids need to be unique, not unguessable, so no {@code SecureRandom} is involved.
 *
 * @param traceId 32 lowercase hex characters, not all zeros
 * @param parentId 16 lowercase hex characters, not all zeros: the span of whoever wrote this value
 * @param flags 2 lowercase hex characters ({@code 01} = sampled)
 */
public record TraceParent(String traceId, String parentId, String flags) {
  /** The header (HTTP and envelope {@code headers}) that carries the value. */
  public static final String HEADER = "traceparent";
  private static final int LENGTH = 55;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  public TraceParent {
    if (!exactHex(traceId, 32) || allZeros(traceId, 0, 32)) {
      throw new IllegalArgumentException("trace id must be 32 lowercase hex characters, not all zeros: " + traceId);
    }
    if (!exactHex(parentId, 16) || allZeros(parentId, 0, 16)) {
      throw new IllegalArgumentException("parent id must be 16 lowercase hex characters, not all zeros: " + parentId);
    }
    if (!exactHex(flags, 2)) {
      throw new IllegalArgumentException("flags must be 2 lowercase hex characters: " + flags);
    }
  }

  /**
   * Parses a {@code traceparent} as the W3C spec says a receiver must: version 2 hex digits (not
   * {@code ff}), trace id 32 hex not all zeros, parent id 16 hex not all zeros, flags 2 hex, all
   * lowercase, separated by {@code -}. Version {@code 00} is exactly 55 characters; a higher version
   * may carry more after a further {@code -} (ignored, and written back as version 00).
   *
   * @return the value, or null when {@code header} is null or invalid (the caller starts a new trace)
   */
  public static TraceParent parse(String header) {
    if (header == null) {
      return null;
    }
    String s = header.strip();
    int n = s.length();
    if (n < LENGTH || !isHex(s, 0, 2) || (s.charAt(0) == 'f' && s.charAt(1) == 'f')
        || s.charAt(2) != '-' || s.charAt(35) != '-' || s.charAt(52) != '-') {
      return null;
    }
    boolean v00 = s.charAt(0) == '0' && s.charAt(1) == '0';
    if (n > LENGTH && (v00 || s.charAt(LENGTH) != '-')) {
      return null;
    }
    if (!isHex(s, 3, 32) || allZeros(s, 3, 32) || !isHex(s, 36, 16) || allZeros(s, 36, 16) || !isHex(s, 53, 2)) {
      return null;
    }
    return new TraceParent(s.substring(3, 35), s.substring(36, 52), s.substring(53, 55));
  }

  /** The valid {@code traceparent} in {@code headers}, or null. */
  public static TraceParent from(Map<String, String> headers) {
    return headers == null ? null : parse(headers.get(HEADER));
  }

  /** A new trace (random trace id and span id), flagged sampled. */
  public static TraceParent generate() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = r.nextLong();
    long lo = r.nextLong();
    if (hi == 0 && lo == 0) {
      lo = 1;
    }
    char[] t = new char[32];
    hex(hi, t, 0);
    hex(lo, t, 16);
    return new TraceParent(new String(t), newSpanId(), "01");
  }

  /** A new span of the same trace whose parent is this one: what a hop writes into what it sends on. */
  public TraceParent child() {
    return new TraceParent(traceId, newSpanId(), flags);
  }

  /** The value for the {@code traceparent} header (always version 00). */
  public String header() {
    return "00-" + traceId + "-" + parentId + "-" + flags;
  }

  @Override
  public String toString() {
    return header();
  }

  /**
   * The span a hop makes for a message it received with {@code headers}: the child of their
   * {@code traceparent}, or null when there is none (a foreign publisher): a trace starts at the
   * edge (the gateway), it is not invented in the middle.
   */
  public static TraceParent childOf(Map<String, String> headers) {
    TraceParent in = from(headers);
    return in == null ? null : in.child();
  }

  /** {@code headers} with {@link #HEADER} set to {@code span} (a copy; {@code headers} is left as is). */
  public static Map<String, String> withSpan(Map<String, String> headers, TraceParent span) {
    Map<String, String> m = new LinkedHashMap<>(headers);
    m.put(HEADER, span.header());
    return m;
  }

  /** 16 hex characters from a random non-zero long. */
  static String newSpanId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long id;
    do {
      id = r.nextLong();
    } while (id == 0);
    char[] c = new char[16];
    hex(id, c, 0);
    return new String(c);
  }

  private static void hex(long v, char[] out, int at) {
    for (int i = 15; i >= 0; i--) {
      out[at + i] = HEX[(int) (v & 0xf)];
      v >>>= 4;
    }
  }

  private static boolean exactHex(String s, int len) {
    return s != null && s.length() == len && isHex(s, 0, len);
  }

  private static boolean isHex(String s, int from, int len) {
    for (int i = from; i < from + len; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean allZeros(String s, int from, int len) {
    for (int i = from; i < from + len; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
