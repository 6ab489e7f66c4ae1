package io.sgstreams.gateway.fanout;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Keys seen within a time window (oldest evicted first), to suppress the duplicate replies that
 * at-least-once processing produces (same {@code in_reply_to} + {@code message_key}). The
 * window must outlast a redelivery: a second reply comes from a worker that claimed the request
 * after {@code claim_min_idle}, possibly on a later delivery, so the gateway sizes it as
 * {@code claim_min_idle × max_deliveries} plus a margin. Memory is capped at {@code maxKeys};
 * keys pushed out by the cap before their window ended are counted ({@link #evictedEarly()}),
 * since a duplicate of one of them would no longer be caught.
 */
public final class RecentKeys {
  private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>(1024, 0.75f, false);
  private final long windowNanos;
  private final int maxKeys;
  private final LongSupplier clock;
  private long evictedEarly;

  public RecentKeys(Duration window, int maxKeys) {
    this(window, maxKeys, System::nanoTime);
  }

  RecentKeys(Duration window, int maxKeys, LongSupplier clock) {
    this.windowNanos = window.toNanos();
    this.maxKeys = maxKeys;
    this.clock = clock;
  }

  /** True the first time {@code key} is offered within the window. */
  public synchronized boolean firstTime(String key) {
    long now = clock.getAsLong();
    for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Long> oldest = it.next();
      boolean expired = now - oldest.getValue() > windowNanos;
      if (!expired && seen.size() < maxKeys) {
        break;
      }
      if (!expired) {
        evictedEarly++;
      }
      it.remove();
    }
    return seen.putIfAbsent(key, now) == null;
  }

  public synchronized int size() {
    return seen.size();
  }

  /** Keys dropped by the memory cap while still inside the window. */
  public synchronized long evictedEarly() {
    return evictedEarly;
  }
}
