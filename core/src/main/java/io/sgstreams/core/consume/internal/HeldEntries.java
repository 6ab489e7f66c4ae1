package io.sgstreams.core.consume.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The entries a consumer holds, per stream: handed out (handling, queued behind their
 * conversation) and not yet settled, or settling (ack or dead letter in flight). They are the
 * ones its ownership renewal keeps, and the ones a re-read or claim must not hand out twice.
 */
final class HeldEntries {
  private final Map<String, Map<String, DefaultDelivery>> byStream = new ConcurrentHashMap<>();

  HeldEntries(List<String> streams) {
    for (String s : streams) {
      byStream.put(s, new ConcurrentHashMap<>());
    }
  }

  /** False when the entry is already held. */
  boolean add(DefaultDelivery d) {
    return byStream.get(d.stream()).putIfAbsent(d.id(), d) == null;
  }

  boolean contains(String stream, String id) {
    return byStream.get(stream).containsKey(id);
  }

  DefaultDelivery get(String stream, String id) {
    return byStream.get(stream).get(id);
  }

  void remove(DefaultDelivery d) {
    byStream.get(d.stream()).remove(d.id(), d);
  }

  /** A snapshot of the ids held on {@code stream}. */
  List<String> ids(String stream) {
    return new ArrayList<>(byStream.get(stream).keySet());
  }

  int size(String stream) {
    return byStream.get(stream).size();
  }

  int size() {
    int n = 0;
    for (Map<String, DefaultDelivery> m : byStream.values()) {
      n += m.size();
    }
    return n;
  }
}
