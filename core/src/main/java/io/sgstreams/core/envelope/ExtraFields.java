package io.sgstreams.core.envelope;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import org.msgpack.value.ArrayValue;
import org.msgpack.value.MapValue;
import org.msgpack.value.Value;

/**
 * The unknown top-level keys of an envelope ({@link Envelope#extra()}): an unmodifiable, ordered map.
 *
 * <p>When built by the decoder it also keeps each value's original bytes, which the encoder writes back
 * verbatim, so unknown keys survive a decode/encode cycle byte for byte even where MessagePack allows several
 * encodings of the same value (e.g. a small int written as int32, a float32, a timestamp extension).
 */
final class ExtraFields extends AbstractMap<String, Value> {
    static final ExtraFields EMPTY = new ExtraFields(new String[0], new Value[0], null);

    private final String[] keys;
    private final Value[] values;
    /** Original encodings, index-aligned with keys, or null when built from user values. */
    private final byte[][] raw;

    ExtraFields(String[] keys, Value[] values, byte[][] raw) {
        this.keys = keys;
        this.values = values;
        this.raw = raw;
    }

    int count() {
        return keys.length;
    }

    String keyAt(int i) {
        return keys[i];
    }

    Value valueAt(int i) {
        return values[i];
    }

    /** The value's original bytes, or null if it must be packed from {@link #valueAt}. */
    byte[] rawAt(int i) {
        return raw == null ? null : raw[i];
    }

    /**
     * Null becomes the empty map; any other map is checked (non-null keys and values, no key the given kind
     * knows, nesting within limits) and, unless it already is an ExtraFields, copied.
     */
    static ExtraFields normalize(Map<String, Value> extra, Kind kind) {
        if (extra == null || extra.isEmpty()) {
            return EMPTY;
        }
        if (extra instanceof ExtraFields) {
            ExtraFields ef = (ExtraFields) extra;
            for (String k : ef.keys) {
                checkKey(k, kind);
            }
            return ef;
        }
        int n = extra.size();
        String[] ks = new String[n];
        Value[] vs = new Value[n];
        int i = 0;
        for (Map.Entry<?, ?> e : ((Map<?, ?>) extra).entrySet()) {
            Object k = e.getKey();
            Object v = e.getValue();
            if (!(k instanceof String)) {
                throw new IllegalArgumentException("extra keys must be non-null Strings");
            }
            checkKey((String) k, kind);
            if (!(v instanceof Value)) {
                throw new IllegalArgumentException("extra['" + k + "'] must be a non-null org.msgpack.value.Value");
            }
            Value iv = ((Value) v).immutableValue();
            if (depth(iv) > FreeForm.MAX_DEPTH - 1) {
                throw new IllegalArgumentException("extra['" + k + "'] is nested deeper than "
                        + FreeForm.MAX_DEPTH + " levels");
            }
            ks[i] = (String) k;
            vs[i] = iv;
            i++;
        }
        return new ExtraFields(ks, vs, null);
    }

    private static void checkKey(String key, Kind kind) {
        if (WireKeys.isKnown(kind, key)) {
            throw new IllegalArgumentException("extra must not contain '" + key
                    + "', a key " + kind.wire() + " envelopes define");
        }
    }

    private static int depth(Value v) {
        if (v.isArrayValue()) {
            int d = 0;
            for (Value e : (ArrayValue) v) {
                d = Math.max(d, depth(e));
                if (d > FreeForm.MAX_DEPTH) {
                    break;
                }
            }
            return d + 1;
        }
        if (v.isMapValue()) {
            int d = 0;
            for (Map.Entry<Value, Value> e : ((MapValue) v).entrySet()) {
                d = Math.max(d, Math.max(depth(e.getKey()), depth(e.getValue())));
                if (d > FreeForm.MAX_DEPTH) {
                    break;
                }
            }
            return d + 1;
        }
        return 0;
    }

    @Override
    public int size() {
        return keys.length;
    }

    @Override
    public Value get(Object key) {
        for (int i = 0; i < keys.length; i++) {
            if (keys[i].equals(key)) {
                return values[i];
            }
        }
        return null;
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    public Set<Entry<String, Value>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return keys.length;
            }

            @Override
            public Iterator<Entry<String, Value>> iterator() {
                return new Iterator<>() {
                    private int i;

                    @Override
                    public boolean hasNext() {
                        return i < keys.length;
                    }

                    @Override
                    public Entry<String, Value> next() {
                        if (i >= keys.length) {
                            throw new NoSuchElementException();
                        }
                        Entry<String, Value> e = new SimpleImmutableEntry<>(keys[i], values[i]);
                        i++;
                        return e;
                    }
                };
            }
        };
    }
}
