package io.sgstreams.core.consume.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/** A bounded set of the most recently added (stream, id) pairs (oldest evicted first). */
final class RecentIds {
  private record Key(String stream, String id) {}

  private final Map<Key, Boolean> ids;

  RecentIds(int capacity) {
    this.ids = new LinkedHashMap<>(capacity * 2, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
        return size() > capacity;
      }
    };
  }

  synchronized void add(String stream, String id) {
    ids.put(new Key(stream, id), Boolean.TRUE);
  }

  synchronized boolean contains(String stream, String id) {
    return ids.containsKey(new Key(stream, id));
  }
}
