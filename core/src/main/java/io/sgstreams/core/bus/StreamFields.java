package io.sgstreams.core.bus;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** The fields of a stream entry (wire contract): {@code data}, {@code ts}, {@code trace_id}. */
public final class StreamFields {
  public static final String DATA = "data";
  public static final String TS = "ts";
  public static final String TRACE_ID = "trace_id";
  /**
   * On an entry re-added by {@code sg dlq replay}: the id of the dead letter (DLQ entry) whose
   * {@code data} it carries. Readers that do not know it ignore it.
   */
  public static final String REPLAY_OF = "replay_of";
  private static final byte[] EMPTY = new byte[0];

  private StreamFields() {}

  /**
   * The three fields of a published envelope, as a small immutable map that the XADD path writes
   * without iterating ({@link XaddArgs}); {@link #of} for a map to add fields to.
   */
  public static Map<String, byte[]> envelope(byte[] data, long ts, String traceId) {
    return new Envelope(data, ascii(Long.toString(ts)), traceId == null || traceId.isEmpty() ? EMPTY : ascii(traceId));
  }

  /** The three fields as read back from an entry ({@code ts} and {@code trace_id} as their bytes). */
  public static Map<String, byte[]> envelopeFields(byte[] data, byte[] ts, byte[] traceId) {
    return new Envelope(data, ts, traceId);
  }

  /** {@code data}, {@code ts}, {@code trace_id}, in that order. */
  static final class Envelope extends java.util.AbstractMap<String, byte[]> {
    final byte[] data;
    final byte[] ts;
    final byte[] traceId;

    Envelope(byte[] data, byte[] ts, byte[] traceId) {
      this.data = data;
      this.ts = ts;
      this.traceId = traceId;
    }

    @Override
    public byte[] get(Object key) {
      return DATA.equals(key) ? data : TS.equals(key) ? ts : TRACE_ID.equals(key) ? traceId : null;
    }

    @Override
    public boolean containsKey(Object key) {
      return DATA.equals(key) || TS.equals(key) || TRACE_ID.equals(key);
    }

    @Override
    public int size() {
      return 3;
    }

    @Override
    public java.util.Set<Map.Entry<String, byte[]>> entrySet() {
      return new java.util.AbstractSet<>() {
        @Override
        public java.util.Iterator<Map.Entry<String, byte[]>> iterator() {
          return java.util.List.<Map.Entry<String, byte[]>>of(Map.entry(DATA, data), Map.entry(TS, ts),
              Map.entry(TRACE_ID, traceId)).iterator();
        }

        @Override
        public int size() {
          return 3;
        }
      };
    }
  }

  public static Map<String, byte[]> of(byte[] data, long ts, String traceId) {
    Map<String, byte[]> m = new LinkedHashMap<>(4);
    m.put(DATA, data);
    m.put(TS, ascii(Long.toString(ts)));
    m.put(TRACE_ID, traceId == null ? EMPTY : ascii(traceId));
    return m;
  }

  /**
   * The W3C trace id (32 hex) from a {@code traceparent} header
   * ({@code 00-<trace id>-<parent id>-<flags>}), or empty.
   */
  public static String traceIdFrom(Map<String, String> headers) {
    String tp = headers == null ? null : headers.get("traceparent");
    if (tp == null || tp.length() < 55 || tp.charAt(2) != '-' || tp.charAt(35) != '-') {
      return "";
    }
    String id = tp.substring(3, 35);
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return "";
      }
    }
    return id;
  }

  public static String string(Map<String, byte[]> fields, String name) {
    byte[] v = fields.get(name);
    return v == null ? "" : new String(v, StandardCharsets.UTF_8);
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
