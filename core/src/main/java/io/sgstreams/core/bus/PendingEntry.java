package io.sgstreams.core.bus;

/** One entry of a group's pending list (XPENDING's extended form). */
public record PendingEntry(String id, String consumer, long idleMillis, long deliveries) {}
