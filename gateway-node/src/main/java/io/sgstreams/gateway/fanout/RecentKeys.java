package io.sgstreams.gateway.fanout;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded set of recently seen keys (insertion-ordered, oldest evicted): suppresses the
 * duplicate replies at-least-once delivery produces (same {@code in_reply_to} + {@code message_key}).
 */
public final class RecentKeys {
  private final Map<String, Boolean> seen;

  public RecentKeys(int capacity) {
    this.seen = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  /** True the first time {@code key} is offered (while it stays among the most recent). */
  public synchronized boolean firstTime(String key) {
    return seen.putIfAbsent(key, Boolean.TRUE) == null;
  }
}
