package io.sgstreams.core.consume.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Runs tasks with the same key one at a time, in submission order; tasks with different keys
 * run in parallel. Unlike fixed lanes, a slow key never holds up another key; unlike
 * {@code groupBy}, the number of keys is unbounded without hanging. Memory: one entry per key
 * that has a task running or waiting.
 */
public final class KeyedSerializer<K> {
  private final Map<K, Sinks.Empty<Void>> tails = new HashMap<>();

  /** Subscribing submits: the task starts once every earlier task of {@code key} has finished. */
  public <T> Mono<T> submit(K key, Supplier<Mono<T>> task) {
    if (key == null) {
      return Mono.defer(task);
    }
    return Mono.defer(() -> {
      Sinks.Empty<Void> mine = Sinks.empty();
      Sinks.Empty<Void> prev;
      synchronized (tails) {
        prev = tails.put(key, mine);
      }
      Mono<T> chain = prev == null ? Mono.defer(task) : prev.asMono().then(Mono.defer(task));
      // on the whole chain, so a task cancelled while still waiting does not stall its key
      return chain.doFinally(s -> {
        synchronized (tails) {
          tails.remove(key, mine);
        }
        mine.tryEmitEmpty();
      });
    });
  }

  /** Keys with work running or waiting. */
  public int activeKeys() {
    synchronized (tails) {
      return tails.size();
    }
  }
}
