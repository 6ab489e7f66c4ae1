package io.sgstreams.core.envelope;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePacker;
import org.msgpack.value.MapValue;
import org.msgpack.value.Value;

/** Test helper: builds MessagePack bytes by hand (ordered maps, raw splices) and inspects encodings. */
final class Mp {
    private Mp() {
    }

    /** Bytes spliced verbatim. */
    record Raw(byte[] bytes) {
    }

    static Raw raw(String hex) {
        return new Raw(HexFormat.of().parseHex(hex.replace(" ", "")));
    }

    static Raw raw(byte[] bytes) {
        return new Raw(bytes);
    }

    /** An ordered list of key/value pairs, packed as a map. Keys may be Raw too. */
    static final class Pairs {
        final List<Object[]> pairs = new ArrayList<>();

        Pairs put(Object key, Object value) {
            for (Object[] p : pairs) {
                if (p[0].equals(key)) {
                    p[1] = value;
                    return this;
                }
            }
            pairs.add(new Object[] {key, value});
            return this;
        }

        /** Appends even if the key exists (for duplicate-key inputs). */
        Pairs add(Object key, Object value) {
            pairs.add(new Object[] {key, value});
            return this;
        }

        Pairs remove(String key) {
            pairs.removeIf(p -> p[0].equals(key));
            return this;
        }

        Pairs copy() {
            Pairs c = new Pairs();
            for (Object[] p : pairs) {
                c.pairs.add(new Object[] {p[0], p[1]});
            }
            return c;
        }

        byte[] bytes() {
            MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
            try {
                p.packMapHeader(pairs.size());
                for (Object[] kv : pairs) {
                    pack(p, kv[0]);
                    pack(p, kv[1]);
                }
                return p.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static Pairs pairs(Object... kv) {
        Pairs p = new Pairs();
        for (int i = 0; i < kv.length; i += 2) {
            p.add(kv[i], kv[i + 1]);
        }
        return p;
    }

    static Pairs inbound() {
        return pairs("v", 1, "id", "id-1", "kind", "inbound", "correlation_id", "corr-1", "platform", "web",
                "channel_id", "chan-1", "enqueued_at", 1_720_000_000_000L, "user_id", "user-1", "content", "hello");
    }

    static Pairs outbound() {
        return pairs("v", 1, "id", "id-2", "kind", "outbound", "correlation_id", "corr-1", "platform", "web",
                "channel_id", "chan-1", "enqueued_at", 1_720_000_000_000L, "type", "message", "in_reply_to", "id-1",
                "content", "hi");
    }

    static Pairs toolRequest() {
        return pairs("v", 1, "id", "id-3", "kind", "tool_request", "correlation_id", "corr-3",
                "enqueued_at", 1_720_000_000_000L, "tool", "search", "args", Map.of(), "reply_to", "sg:reply:w1");
    }

    static Pairs toolReply() {
        return pairs("v", 1, "id", "id-4", "kind", "tool_reply", "correlation_id", "corr-3",
                "enqueued_at", 1_720_000_000_000L, "ok", true, "result", null);
    }

    static byte[] pack(Object o) {
        MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
        try {
            pack(p, o);
            return p.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void pack(MessagePacker p, Object o) throws IOException {
        if (o instanceof Raw r) {
            p.writePayload(r.bytes());
        } else if (o instanceof Pairs ps) {
            p.writePayload(ps.bytes());
        } else if (o == null) {
            p.packNil();
        } else if (o instanceof String s) {
            p.packString(s);
        } else if (o instanceof Integer || o instanceof Long) {
            p.packLong(((Number) o).longValue());
        } else if (o instanceof Double d) {
            p.packDouble(d);
        } else if (o instanceof Boolean b) {
            p.packBoolean(b);
        } else if (o instanceof byte[] b) {
            p.packBinaryHeader(b.length);
            p.writePayload(b);
        } else if (o instanceof Map<?, ?> m) {
            p.packMapHeader(m.size());
            for (Map.Entry<?, ?> e : m.entrySet()) {
                pack(p, e.getKey());
                pack(p, e.getValue());
            }
        } else if (o instanceof List<?> l) {
            p.packArrayHeader(l.size());
            for (Object e : l) {
                pack(p, e);
            }
        } else if (o instanceof Value v) {
            p.packValue(v);
        } else {
            throw new IllegalArgumentException(o.getClass().getName());
        }
    }

    /** Decodes an encoding generically (msgpack Value) to look at its keys. */
    static Map<String, Value> topLevel(byte[] bytes) {
        try {
            MapValue m = MessagePack.newDefaultUnpacker(bytes).unpackValue().asMapValue();
            Map<String, Value> out = new LinkedHashMap<>();
            for (Map.Entry<Value, Value> e : m.entrySet()) {
                out.put(e.getKey().asStringValue().asString(), e.getValue());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int off = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, off, p.length);
            off += p.length;
        }
        return out;
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static byte[] repeat(byte b, int n) {
        byte[] out = new byte[n];
        Arrays.fill(out, b);
        return out;
    }
}
