package io.sgstreams.core.consume;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * Writes dead-letter entries (wire contract): {@code original_stream}, {@code original_id},
 * {@code group}, {@code consumer}, {@code deliveries}, {@code error}, {@code data} (the original
 * bytes, unchanged), {@code ts}, {@code trace_id}. The caller acknowledges the original only
 * after this succeeded, so a crash in between duplicates a dead letter but never loses one.
 */
public final class DeadLetters {
  public static final String ORIGINAL_STREAM = "original_stream";
  public static final String ORIGINAL_ID = "original_id";
  public static final String GROUP = "group";
  public static final String CONSUMER = "consumer";
  public static final String DELIVERIES = "deliveries";
  public static final String ERROR = "error";
  /** The {@code error} of an entry found trimmed from its stream before it was handled (no {@code data}). */
  public static final String TRIMMED_BEFORE_HANDLED = "trimmed_before_handled";
  /** Longest error text kept: a dead letter must stay small whatever the exception says. */
  static final int MAX_ERROR_CHARS = 2000;

  private DeadLetters() {}

  public static Map<String, byte[]> fields(Delivery d, Throwable cause) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put(ORIGINAL_STREAM, utf8(d.stream()));
    m.put(ORIGINAL_ID, utf8(d.id()));
    m.put(GROUP, utf8(d.group()));
    m.put(CONSUMER, utf8(d.consumer()));
    m.put(DELIVERIES, utf8(Long.toString(d.deliveryCount())));
    m.put(ERROR, utf8(describe(cause)));
    byte[] data = d.data();
    m.put(StreamFields.DATA, data == null ? new byte[0] : data);
    m.put(StreamFields.TS, utf8(Long.toString(System.currentTimeMillis())));
    m.put(StreamFields.TRACE_ID, utf8(d.traceId()));
    return m;
  }

  /**
   * The record of an entry found trimmed from {@code stream} while still pending: the contract's
   * fields with {@code error=trimmed_before_handled}, {@code deliveries=0} (unknown) and no
   * {@code data} (it is gone).
   */
  public static Map<String, byte[]> trimmedFields(String stream, String id, String group, String consumer) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    m.put(ORIGINAL_STREAM, utf8(stream));
    m.put(ORIGINAL_ID, utf8(id));
    m.put(GROUP, utf8(group));
    m.put(CONSUMER, utf8(consumer));
    m.put(DELIVERIES, utf8("0"));
    m.put(ERROR, utf8(TRIMMED_BEFORE_HANDLED));
    m.put(StreamFields.TS, utf8(Long.toString(System.currentTimeMillis())));
    m.put(StreamFields.TRACE_ID, utf8(""));
    return m;
  }

  public static Mono<String> writeTrimmed(RedisEventBus bus, String stream, String id, String group, String consumer) {
    return bus.publishFields(bus.topology().dlqFor(stream), trimmedFields(stream, id, group, consumer));
  }

  /** XADD to the DLQ stream; the entry id. */
  public static Mono<String> write(RedisEventBus bus, Delivery d, Throwable cause) {
    return bus.publishFields(bus.topology().dlqFor(d.stream()), fields(d, cause));
  }

  /** {@code ClassName: message}, bounded. */
  public static String describe(Throwable t) {
    if (t == null) {
      return "unknown";
    }
    String s = t.getClass().getName() + ": " + t.getMessage();
    return s.length() > MAX_ERROR_CHARS ? s.substring(0, MAX_ERROR_CHARS) + "…" : s;
  }

  private static byte[] utf8(String s) {
    return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
  }
}
