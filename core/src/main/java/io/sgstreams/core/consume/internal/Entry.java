package io.sgstreams.core.consume.internal;

import java.util.Map;

/** One pending entry as read or claimed, before it becomes a delivery. A null or empty body: trimmed. */
record Entry(String id, Map<String, byte[]> body, long deliveryCount) {}
