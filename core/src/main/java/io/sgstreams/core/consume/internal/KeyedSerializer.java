package io.sgstreams.core.consume.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
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

  /**
   * Subscribing submits: the task starts once every earlier task of {@code key} has finished.
   * Cancelling a task that is still waiting hands its turn on only when the task before it has
   * finished: the one after it never runs beside that one.
   */
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
      if (prev == null) {
        return Mono.defer(task).doFinally(s -> release(key, mine));
      }
      AtomicBoolean started = new AtomicBoolean();
      Mono<T> run = Mono.defer(() -> {
        started.set(true);
        return task.get();
      });
      // on the whole chain, so a task cancelled while still waiting does not stall its key
      return prev.asMono().then(run).doFinally(s -> {
        if (started.get()) {
          release(key, mine);
        } else {
          // cancelled before its turn: the next task waits for the one before this
          prev.asMono().subscribe(null, e -> release(key, mine), () -> release(key, mine));
        }
      });
    });
  }

  private void release(K key, Sinks.Empty<Void> mine) {
    synchronized (tails) {
      tails.remove(key, mine);
    }
    mine.tryEmitEmpty();
  }

  /** Keys with work running or waiting. */
  public int activeKeys() {
    synchronized (tails) {
      return tails.size();
    }
  }
}
