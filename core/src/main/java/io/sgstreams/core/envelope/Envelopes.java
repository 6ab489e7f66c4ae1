package io.sgstreams.core.envelope;

import java.util.LinkedHashMap;
import java.util.Map;

/** Small helpers shared by the records. */
final class Envelopes {
    private Envelopes() {
    }

    static Map<String, String> plus(Map<String, String> headers, String name, String value) {
        Checks.notNull(name, "header name");
        Checks.notNull(value, "header value");
        LinkedHashMap<String, String> copy = FrozenMap.newLinkedHashMap(headers.size() + 1);
        copy.putAll(headers);
        copy.put(name, value);
        return FrozenMap.wrap(copy, 1);
    }
}
