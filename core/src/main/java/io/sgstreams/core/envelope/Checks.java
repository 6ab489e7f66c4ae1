package io.sgstreams.core.envelope;

import java.util.List;
import java.util.Map;

/** Argument checks shared by the record constructors. */
final class Checks {
    private Checks() {
    }

    static void version(int v) {
        if (v < 1) {
            throw new IllegalArgumentException("v must be >= 1, got " + v);
        }
    }

    static <T> T notNull(T value, String field) {
        if (value == null) {
            throw new NullPointerException(field + " must not be null");
        }
        return value;
    }

    static String notEmpty(String value, String field) {
        notNull(value, field);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
        return value;
    }

    static String notEmptyIfSet(String value, String field) {
        if (value != null && value.isEmpty()) {
            throw new IllegalArgumentException(field + " must not be empty when set");
        }
        return value;
    }

    /** Null becomes the empty map; keys and values must be non-null Strings; order is kept. */
    static Map<String, String> headers(Map<String, String> headers) {
        if (headers == null || headers.isEmpty()) {
            return FrozenMap.empty();
        }
        if (headers instanceof FrozenMap) {
            // values are re-checked: a raw-typed caller could pass a metadata map here
            boolean allStrings = true;
            for (Object v : ((Map<?, ?>) headers).values()) {
                if (!(v instanceof String)) {
                    allStrings = false;
                    break;
                }
            }
            if (allStrings) {
                return headers;
            }
        }
        var copy = FrozenMap.<String>newLinkedHashMap(headers.size());
        for (Map.Entry<?, ?> e : ((Map<?, ?>) headers).entrySet()) {
            Object k = e.getKey();
            Object v = e.getValue();
            if (!(k instanceof String)) {
                throw new IllegalArgumentException("headers keys must be non-null Strings, got "
                        + (k == null ? "null" : k.getClass().getName()));
            }
            if (!(v instanceof String)) {
                throw new IllegalArgumentException("headers['" + k + "'] must be a non-null String, got "
                        + (v == null ? "null" : v.getClass().getName()));
            }
            copy.put((String) k, (String) v);
        }
        return FrozenMap.wrap(copy, 1);
    }

    /** Null becomes the empty list; elements must be non-null. */
    static List<Attachment> attachments(List<Attachment> attachments) {
        if (attachments == null || attachments.isEmpty()) {
            return List.of();
        }
        int i = 0;
        for (Attachment a : attachments) {
            if (a == null) {
                throw new NullPointerException("attachments[" + i + "] must not be null");
            }
            i++;
        }
        return List.copyOf(attachments);
    }
}
