package io.sgstreams.core.envelope;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Unmodifiable, insertion-ordered map holding values already in canonical form (see {@link FreeForm}).
 * Being a distinct type lets the records recognise maps that need no copying or checking. Equality and hash
 * code compare {@code byte[]} values by content.
 */
final class FrozenMap<V> extends AbstractMap<String, V> {
    private static final FrozenMap<Object> EMPTY = new FrozenMap<>(new LinkedHashMap<>(), 1);

    private final LinkedHashMap<String, V> map;
    private final Map<String, V> view;
    /** Nesting height of this map: 1 + the largest height of its values (scalars count 0). */
    final int height;

    private FrozenMap(LinkedHashMap<String, V> map, int height) {
        this.map = map;
        this.view = Collections.unmodifiableMap(map);
        this.height = height;
    }

    @SuppressWarnings("unchecked")
    static <V> FrozenMap<V> empty() {
        return (FrozenMap<V>) EMPTY;
    }

    /** Takes ownership of {@code map}, which must not be modified afterwards. */
    static <V> FrozenMap<V> wrap(LinkedHashMap<String, V> map, int height) {
        return map.isEmpty() ? empty() : new FrozenMap<>(map, height);
    }

    static <V> LinkedHashMap<String, V> newLinkedHashMap(int expected) {
        return new LinkedHashMap<>(expected < 3 ? 4 : (int) (expected / 0.75f) + 1);
    }

    @Override
    public Set<Entry<String, V>> entrySet() {
        return view.entrySet();
    }

    @Override
    public int size() {
        return map.size();
    }

    @Override
    public boolean isEmpty() {
        return map.isEmpty();
    }

    @Override
    public V get(Object key) {
        return map.get(key);
    }

    @Override
    public boolean containsKey(Object key) {
        return map.containsKey(key);
    }

    @Override
    public Set<String> keySet() {
        return view.keySet();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Map && FreeForm.deepEquals(this, o);
    }

    @Override
    public int hashCode() {
        return FreeForm.deepHashCode(this);
    }

    @Override
    public String toString() {
        return FreeForm.toString(this);
    }
}
