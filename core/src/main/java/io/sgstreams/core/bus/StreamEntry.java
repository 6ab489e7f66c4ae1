package io.sgstreams.core.bus;

import java.util.Map;

/** One stream entry as read: its stream, id and raw fields (wire contract: {@code data}, {@code ts}, {@code trace_id}). */
public record StreamEntry(String stream, String id, Map<String, byte[]> fields) {
  /** The {@code data} field (the envelope bytes), or null. */
  public byte[] data() {
    return fields.get(StreamFields.DATA);
  }
}
