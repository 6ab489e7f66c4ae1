package io.sgstreams.core.redis.internal;

import io.lettuce.core.output.CommandOutput;
import io.sgstreams.core.bus.StreamFields;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The entries of an {@code XREADGROUP}/{@code XREAD} reply of one stream, made straight into the
 * caller's entry type: RESP2 ({@code [[stream, [[id, [field, value, …]], …]]]}) and RESP3 ({@code
 * {stream: [[id, [field, value, …]], …]}}) alike, a deleted entry's nil body as an empty one.
 *
 * <p>Hand-written instead of Lettuce's {@code StreamReadOutput} for what a profile of the closed
 * loop showed it allocating per entry (docs/performance.md): a {@code StreamMessage}, a
 * {@code LinkedHashMap} with an entry object per field, the id decoded through a charset decoder
 * (a char buffer and a string), and a result list grown by copying from one element to the batch
 * size. Here the list is sized from the reply's entry count, the id is one ASCII string, the
 * wire contract's three fields ({@code data}, {@code ts}, {@code trace_id}) become one small
 * immutable map, and other field sets an ordinary ordered map.
 */
public final class StreamEntriesOutput<T> extends CommandOutput<String, byte[], List<T>> {
  /** Makes the caller's entry from an id and its fields. */
  @FunctionalInterface
  public interface Factory<T> {
    T entry(String id, Map<String, byte[]> body);
  }

  private static final int STREAM = 0;
  private static final int ENTRIES = 1;
  private static final int ENTRY = 2;
  private static final int ID = 3;
  private static final int FIELDS_HEADER = 4;
  private static final int FIELDS = 5;

  private final Factory<T> factory;
  private int state = STREAM;
  private int entriesLeft;
  private String id;
  private String[] names;
  private byte[][] values;
  private int fieldCount;
  private int fieldIndex;

  public StreamEntriesOutput(Factory<T> factory) {
    super(StreamCodec.INSTANCE, Collections.emptyList());
    this.factory = factory;
  }

  @Override
  public void multi(int count) {
    switch (state) {
      case ENTRIES -> {
        if (count <= 0) {
          state = STREAM;
          return;
        }
        entriesLeft = count;
        if (output.isEmpty()) {
          output = new ArrayList<>(count);
        } else {
          ((ArrayList<T>) output).ensureCapacity(output.size() + count);
        }
        state = ENTRY;
      }
      case ENTRY -> state = ID;
      case FIELDS_HEADER -> {
        if (count <= 0) {
          emit(Map.of()); // nil (deleted entry) or no fields
          return;
        }
        int pairs = count / 2;
        names = new String[pairs];
        values = new byte[pairs][];
        fieldCount = count;
        fieldIndex = 0;
        state = FIELDS;
      }
      default -> {
        // the reply's outer array or map, and RESP2's [stream, entries] pair: nothing to keep
      }
    }
  }

  @Override
  public void set(ByteBuffer bytes) {
    switch (state) {
      case STREAM -> {
        if (bytes != null) {
          state = ENTRIES; // the stream's name: the caller knows it
        }
      }
      case ENTRIES -> state = STREAM; // RESP3 nil in place of the entries
      case ID -> {
        id = ascii(bytes);
        state = FIELDS_HEADER;
      }
      case FIELDS_HEADER -> emit(Map.of()); // RESP3 nil body (deleted entry)
      case FIELDS -> {
        int pair = fieldIndex >> 1;
        if (pair < names.length) {
          if ((fieldIndex & 1) == 0) {
            names[pair] = StreamCodec.INSTANCE.decodeKey(bytes);
          } else {
            values[pair] = StreamCodec.INSTANCE.decodeValue(bytes);
          }
        }
        if (++fieldIndex == fieldCount) {
          emit(body());
        }
      }
      default -> throw new IllegalStateException("unexpected bulk string in a stream read reply (state " + state + ")");
    }
  }

  @Override
  public void set(long integer) {
    // not part of a plain read's reply (XREADGROUP … CLAIM adds idle time and delivery count): ignored
  }

  private Map<String, byte[]> body() {
    String[] n = names;
    byte[][] v = values;
    names = null;
    values = null;
    // the decoder returns the constants for these names, so identity suffices
    if (n.length == 3 && n[0] == StreamFields.DATA && n[1] == StreamFields.TS && n[2] == StreamFields.TRACE_ID) {
      return StreamFields.envelopeFields(v[0], v[1], v[2]);
    }
    Map<String, byte[]> m = new LinkedHashMap<>(Math.max(4, n.length * 2));
    for (int i = 0; i < n.length; i++) {
      if (n[i] != null) {
        m.put(n[i], v[i]);
      }
    }
    return m;
  }

  private void emit(Map<String, byte[]> body) {
    output.add(factory.entry(id, body));
    id = null;
    state = --entriesLeft > 0 ? ENTRY : STREAM;
  }

  private String ascii(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    int n = b.remaining();
    if (n > scratch.length) {
      scratch = new byte[n];
    }
    b.get(scratch, 0, n);
    return new String(scratch, 0, n, StandardCharsets.ISO_8859_1); // ids are ASCII digits and '-'
  }

  private byte[] scratch = new byte[32];
}
