package io.sgstreams.core.consume.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/** A bounded set of the most recently added ids (oldest evicted first). */
final class RecentIds {
  private final Map<String, Boolean> ids;

  RecentIds(int capacity) {
    this.ids = new LinkedHashMap<>(capacity * 2, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  synchronized void add(String id) {
    ids.put(id, Boolean.TRUE);
  }

  synchronized boolean contains(String id) {
    return ids.containsKey(id);
  }
}
