package io.sgstreams.core.envelope;

import java.io.IOException;
import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessagePacker;

/**
 * Free-form values ({@code metadata}, {@code args}, {@code result}).
 *
 * <p>Canonical form, which decoding produces and the records store: {@link FrozenMap} (String keys),
 * {@link FrozenList}, String, Long, BigInteger (only beyond the long range, up to 2^64-1), Double, Boolean,
 * byte[], null. {@link #freeze} converts the wider set of Java types accepted on construction into that form.
 */
final class FreeForm {
    /** Maximum nesting of maps/arrays, counting the envelope map itself as level 1. */
    static final int MAX_DEPTH = 64;

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private FreeForm() {
    }

    /** Freezes a map-valued field ({@code metadata}, {@code args}); null becomes the empty map. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> freezeMap(Map<String, ?> m, String field) {
        if (m == null || m.isEmpty()) {
            return FrozenMap.empty();
        }
        return (Map<String, Object>) freeze(m, field, 2);
    }

    /**
     * Converts {@code o} to canonical form.
     *
     * @param depth nesting level {@code o} would have in the envelope if it is a container
     * @throws IllegalArgumentException for unsupported types, non-String map keys, nesting deeper than
     *     {@link #MAX_DEPTH} (which also catches cycles) or integers outside the MessagePack range
     */
    static Object freeze(Object o, String field, int depth) {
        if (o == null || o instanceof String || o instanceof Long || o instanceof Boolean || o instanceof Double
                || o instanceof byte[]) {
            return o;
        }
        if (o instanceof FrozenMap || o instanceof FrozenList) {
            if (depth + height(o) - 1 > MAX_DEPTH) {
                throw tooDeep(field);
            }
            return o;
        }
        if (o instanceof Integer || o instanceof Short || o instanceof Byte
                || o instanceof java.util.concurrent.atomic.AtomicInteger
                || o instanceof java.util.concurrent.atomic.AtomicLong) {
            return ((Number) o).longValue();
        }
        if (o instanceof Float) {
            return ((Float) o).doubleValue();
        }
        if (o instanceof BigInteger) {
            return freezeBigInteger((BigInteger) o, field);
        }
        if (o instanceof BigDecimal) {
            BigDecimal bd = (BigDecimal) o;
            if (bd.signum() == 0 || bd.stripTrailingZeros().scale() <= 0) {
                try {
                    return freezeBigInteger(bd.toBigIntegerExact(), field);
                } catch (IllegalArgumentException | ArithmeticException e) {
                    return bd.doubleValue();
                }
            }
            return bd.doubleValue();
        }
        if (o instanceof Number) {
            Number n = (Number) o;
            double d = n.doubleValue();
            long l = n.longValue();
            return (d == (double) l && !Double.isInfinite(d)) ? (Object) l : (Object) d;
        }
        if (o instanceof Map) {
            if (depth > MAX_DEPTH) {
                throw tooDeep(field);
            }
            Map<?, ?> m = (Map<?, ?>) o;
            LinkedHashMap<String, Object> out = FrozenMap.newLinkedHashMap(m.size());
            int h = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                Object k = e.getKey();
                if (!(k instanceof String)) {
                    throw new IllegalArgumentException("map keys in '" + field + "' must be String, got "
                            + (k == null ? "null" : k.getClass().getName()));
                }
                Object v = freeze(e.getValue(), field, depth + 1);
                h = Math.max(h, height(v));
                out.put((String) k, v);
            }
            return FrozenMap.wrap(out, h + 1);
        }
        if (o instanceof Collection) {
            if (depth > MAX_DEPTH) {
                throw tooDeep(field);
            }
            Collection<?> c = (Collection<?>) o;
            ArrayList<Object> out = new ArrayList<>(c.size());
            int h = 0;
            for (Object e : c) {
                Object v = freeze(e, field, depth + 1);
                h = Math.max(h, height(v));
                out.add(v);
            }
            return FrozenList.wrap(out, h + 1);
        }
        if (o.getClass().isArray()) {
            if (depth > MAX_DEPTH) {
                throw tooDeep(field);
            }
            int len = Array.getLength(o);
            ArrayList<Object> out = new ArrayList<>(len);
            int h = 0;
            for (int i = 0; i < len; i++) {
                Object v = freeze(Array.get(o, i), field, depth + 1);
                h = Math.max(h, height(v));
                out.add(v);
            }
            return FrozenList.wrap(out, h + 1);
        }
        throw new IllegalArgumentException("unsupported value type " + o.getClass().getName() + " in '" + field
                + "' (allowed: Map with String keys, List/Collection/array, String, Number, Boolean, byte[], null)");
    }

    private static Object freezeBigInteger(BigInteger b, String field) {
        if (b.bitLength() <= 63) {
            return b.longValue();
        }
        if (b.signum() > 0 && b.compareTo(TWO_64) < 0) {
            return b;
        }
        throw new IllegalArgumentException("integer " + b + " in '" + field
                + "' is outside the MessagePack range (-2^63 .. 2^64-1)");
    }

    private static IllegalArgumentException tooDeep(String field) {
        return new IllegalArgumentException("'" + field + "' is nested deeper than " + MAX_DEPTH
                + " levels (or contains a cycle)");
    }

    /** Nesting height of a canonical value: 0 for scalars. */
    static int height(Object v) {
        if (v instanceof FrozenMap) {
            return ((FrozenMap<?>) v).height;
        }
        if (v instanceof FrozenList) {
            return ((FrozenList) v).height;
        }
        return 0;
    }

    /** Structural equality that compares byte[] by content, recursively through maps and lists. */
    static boolean deepEquals(Object a, Object b) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        if (a instanceof byte[]) {
            return b instanceof byte[] && Arrays.equals((byte[]) a, (byte[]) b);
        }
        if (a instanceof Map) {
            if (!(b instanceof Map)) {
                return false;
            }
            Map<?, ?> ma = (Map<?, ?>) a;
            Map<?, ?> mb = (Map<?, ?>) b;
            if (ma.size() != mb.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : ma.entrySet()) {
                Object k = e.getKey();
                Object vb = mb.get(k);
                if (vb == null && !mb.containsKey(k)) {
                    return false;
                }
                if (!deepEquals(e.getValue(), vb)) {
                    return false;
                }
            }
            return true;
        }
        if (a instanceof List) {
            if (!(b instanceof List)) {
                return false;
            }
            List<?> la = (List<?>) a;
            List<?> lb = (List<?>) b;
            if (la.size() != lb.size()) {
                return false;
            }
            Iterator<?> ia = la.iterator();
            Iterator<?> ib = lb.iterator();
            while (ia.hasNext()) {
                if (!deepEquals(ia.next(), ib.next())) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }

    /** Hash code consistent with {@link #deepEquals} (Map/List hash contracts, byte[] by content). */
    static int deepHashCode(Object o) {
        if (o == null) {
            return 0;
        }
        if (o instanceof byte[]) {
            return Arrays.hashCode((byte[]) o);
        }
        if (o instanceof Map) {
            int h = 0;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                h += deepHashCode(e.getKey()) ^ deepHashCode(e.getValue());
            }
            return h;
        }
        if (o instanceof List) {
            int h = 1;
            for (Object e : (List<?>) o) {
                h = 31 * h + deepHashCode(e);
            }
            return h;
        }
        return o.hashCode();
    }

    /** Like {@code String.valueOf}, but shows byte[] as {@code <N bytes>}. */
    static String toString(Object o) {
        StringBuilder sb = new StringBuilder();
        appendTo(sb, o);
        return sb.toString();
    }

    private static void appendTo(StringBuilder sb, Object o) {
        if (o instanceof byte[]) {
            sb.append('<').append(((byte[]) o).length).append(" bytes>");
        } else if (o instanceof Map) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) o).entrySet()) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                sb.append(e.getKey()).append('=');
                appendTo(sb, e.getValue());
            }
            sb.append('}');
        } else if (o instanceof List) {
            sb.append('[');
            boolean first = true;
            for (Object e : (List<?>) o) {
                if (!first) {
                    sb.append(", ");
                }
                first = false;
                appendTo(sb, e);
            }
            sb.append(']');
        } else {
            sb.append(o);
        }
    }

    /** Writes a canonical value (as produced by {@link #freeze}). */
    static void pack(MessagePacker p, Object o) throws IOException {
        if (o == null) {
            p.packNil();
        } else if (o instanceof String) {
            p.packString((String) o);
        } else if (o instanceof Long) {
            p.packLong((Long) o);
        } else if (o instanceof Boolean) {
            p.packBoolean((Boolean) o);
        } else if (o instanceof Double) {
            p.packDouble((Double) o);
        } else if (o instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) o;
            p.packMapHeader(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                p.packString((String) e.getKey());
                pack(p, e.getValue());
            }
        } else if (o instanceof List) {
            List<?> l = (List<?>) o;
            p.packArrayHeader(l.size());
            for (Object e : l) {
                pack(p, e);
            }
        } else if (o instanceof byte[]) {
            byte[] b = (byte[]) o;
            p.packBinaryHeader(b.length);
            p.writePayload(b);
        } else if (o instanceof BigInteger) {
            p.packBigInteger((BigInteger) o);
        } else {
            // Unreachable for values that went through freeze().
            throw new IllegalArgumentException("unsupported value type " + o.getClass().getName());
        }
    }
}
