package io.sgstreams.core.envelope;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;
import java.util.RandomAccess;

/**
 * Unmodifiable list holding values already in canonical form (see {@link FreeForm}). Equality and hash code
 * compare {@code byte[]} elements by content.
 */
final class FrozenList extends AbstractList<Object> implements RandomAccess {
    private static final FrozenList EMPTY = new FrozenList(new ArrayList<>(0), 1);

    private final ArrayList<Object> list;
    /** Nesting height: 1 + the largest height of its elements (scalars count 0). */
    final int height;

    private FrozenList(ArrayList<Object> list, int height) {
        this.list = list;
        this.height = height;
    }

    /** Takes ownership of {@code list}, which must not be modified afterwards. */
    static FrozenList wrap(ArrayList<Object> list, int height) {
        return list.isEmpty() ? EMPTY : new FrozenList(list, height);
    }

    @Override
    public Object get(int index) {
        return list.get(index);
    }

    @Override
    public int size() {
        return list.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof List && FreeForm.deepEquals(this, o);
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
