package io.sgstreams.core.util;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The keys seen lately, bounded: at most {@code capacity} keys (oldest evicted first) and, with a
 * window, none older than the window. The one recent-id set of the project: the consumer engine's
 * recently acknowledged entries (by count) and the gateway's duplicate-reply filter (by time,
 * capped). Keys pushed out by the capacity while still inside the window are counted
 * ({@link #evictedEarly()}): a duplicate of one of them would no longer be caught.
 */
public final class RecentSet<K> {
  private final LinkedHashMap<K, Long> seen;
  private final int capacity;
  private final long windowNanos;
  private final LongSupplier clock;
  private long evictedEarly;

  private RecentSet(int capacity, Duration window, LongSupplier clock) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.capacity = capacity;
    this.windowNanos = window == null ? Long.MAX_VALUE : window.toNanos();
    this.clock = clock;
    this.seen = new LinkedHashMap<>(Math.min(capacity, 1024) * 2, 0.75f, false);
  }

  /** The last {@code capacity} keys. */
  public static <K> RecentSet<K> lastN(int capacity) {
    return new RecentSet<>(capacity, null, System::nanoTime);
  }

  /** The keys of the last {@code window}, at most {@code capacity} of them. */
  public static <K> RecentSet<K> within(Duration window, int capacity) {
    return new RecentSet<>(capacity, window, System::nanoTime);
  }

  /** As {@link #within}, on a clock of nanoseconds (tests). */
  public static <K> RecentSet<K> within(Duration window, int capacity, LongSupplier nanoClock) {
    return new RecentSet<>(capacity, window, nanoClock);
  }

  /** Remembers {@code key}; true the first time it is added while remembered. */
  public synchronized boolean add(K key) {
    long now = clock.getAsLong();
    for (Iterator<Map.Entry<K, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<K, Long> oldest = it.next();
      boolean expired = windowNanos != Long.MAX_VALUE && now - oldest.getValue() > windowNanos;
      if (!expired && seen.size() < capacity) {
        break;
      }
      if (!expired && windowNanos != Long.MAX_VALUE) {
        evictedEarly++;
      }
      it.remove();
    }
    return seen.putIfAbsent(key, now) == null;
  }

  /** Whether {@code key} is remembered (and, with a window, still inside it). */
  public synchronized boolean contains(K key) {
    Long at = seen.get(key);
    return at != null && (windowNanos == Long.MAX_VALUE || clock.getAsLong() - at <= windowNanos);
  }

  public synchronized int size() {
    return seen.size();
  }

  /** Keys dropped by the capacity while still inside the window (always 0 without a window). */
  public synchronized long evictedEarly() {
    return evictedEarly;
  }
}
