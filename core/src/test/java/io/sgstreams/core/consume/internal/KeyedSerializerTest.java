package io.sgstreams.core.consume.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The per-conversation order the Router relies on, tested on its own: tasks of one key run one at a
 * time in submission order, other keys do not wait, and a task that fails or is cancelled while it
 * waits never holds its key.
 */
class KeyedSerializerTest {

  /** A task whose start is recorded and whose end the test decides. */
  private static final class Task {
    final String name;
    final List<String> started;
    final Sinks.One<String> done = Sinks.one();

    Task(String name, List<String> started) {
      this.name = name;
      this.started = started;
    }

    Mono<String> run() {
      started.add(name);
      return done.asMono();
    }

    void finish() {
      done.tryEmitValue(name);
    }
  }

  @Test
  void aKeysTasksRunOneAtATimeInSubmissionOrder() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    List<String> finished = new CopyOnWriteArrayList<>();
    List<Task> tasks = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      Task t = new Task("a" + i, started);
      tasks.add(t);
      s.submit("a", t::run).subscribe(finished::add);
    }
    assertEquals(List.of("a1"), started, "only the first runs");
    tasks.get(0).finish();
    assertEquals(List.of("a1", "a2"), started);
    tasks.get(1).finish();
    tasks.get(2).finish();
    assertEquals(List.of("a1", "a2", "a3"), started);
    assertEquals(List.of("a1", "a2", "a3"), finished);
    assertEquals(0, s.activeKeys(), "no entry is kept for a key with nothing running or waiting");
  }

  @Test
  void anotherKeyDoesNotWait() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    Task a = new Task("a", started);
    Task b = new Task("b", started);
    s.submit("a", a::run).subscribe();
    s.submit("b", b::run).subscribe();
    assertEquals(List.of("a", "b"), started);
    assertEquals(2, s.activeKeys());
    b.finish();
    a.finish();
    assertEquals(0, s.activeKeys());
  }

  @Test
  void withoutAKeyATaskRunsAtOnce() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    s.submit(null, new Task("x", started)::run).subscribe();
    s.submit(null, new Task("y", started)::run).subscribe();
    assertEquals(List.of("x", "y"), started);
    assertEquals(0, s.activeKeys());
  }

  @Test
  void aFailedTaskReleasesItsKey() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    AtomicInteger errors = new AtomicInteger();
    s.submit("a", () -> {
      started.add("boom");
      return Mono.<String>error(new IllegalStateException("boom"));
    }).subscribe(v -> {}, e -> errors.incrementAndGet());
    Task next = new Task("a2", started);
    s.submit("a", next::run).subscribe();
    assertEquals(List.of("boom", "a2"), started);
    assertEquals(1, errors.get());
    next.finish();
    assertEquals(0, s.activeKeys());
  }

  @Test
  void aTaskCancelledWhileWaitingNeverRunsAndDoesNotHoldTheKey() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    Task a1 = new Task("a1", started);
    Task a2 = new Task("a2", started);
    Task a3 = new Task("a3", started);
    s.submit("a", a1::run).subscribe();
    Disposable waiting = s.submit("a", a2::run).subscribe();
    s.submit("a", a3::run).subscribe();
    waiting.dispose();
    assertEquals(List.of("a1"), started, "a3 still waits for a1, which is running");
    a1.finish();
    assertEquals(List.of("a1", "a3"), started, "a2 was cancelled before its turn; a3 still gets one");
    a3.finish();
    assertEquals(0, s.activeKeys());
  }

  @Test
  void aRunningTaskCancelledReleasesItsKey() {
    KeyedSerializer<String> s = new KeyedSerializer<>();
    List<String> started = new CopyOnWriteArrayList<>();
    Task a1 = new Task("a1", started);
    Task a2 = new Task("a2", started);
    Disposable running = s.submit("a", a1::run).subscribe();
    s.submit("a", a2::run).subscribe();
    running.dispose();
    assertEquals(List.of("a1", "a2"), started);
    a2.finish();
    assertEquals(0, s.activeKeys());
  }

  /**
   * Many threads submit to a few keys at once, each task finishing on another thread: per key, no
   * two tasks overlap and they run in the order their submissions were subscribed.
   */
  @Test
  void concurrentSubmissionsKeepEachKeyInOrderWithoutOverlap() throws Exception {
    KeyedSerializer<Integer> s = new KeyedSerializer<>();
    int keys = 4;
    int perKey = 500;
    Map<Integer, List<Integer>> subscribedOrder = new ConcurrentHashMap<>();
    Map<Integer, List<Integer>> runOrder = new ConcurrentHashMap<>();
    Map<Integer, AtomicInteger> running = new ConcurrentHashMap<>();
    AtomicInteger overlaps = new AtomicInteger();
    AtomicInteger concurrentSubmits = new AtomicInteger();
    AtomicInteger inSubmit = new AtomicInteger();
    ExecutorService finishers = Executors.newFixedThreadPool(3);
    ExecutorService submitters = Executors.newFixedThreadPool(keys * 2);
    CountDownLatch done = new CountDownLatch(keys * perKey);
    CountDownLatch go = new CountDownLatch(1);
    try {
      for (int t = 0; t < keys * 2; t++) {
        int thread = t;
        submitters.submit(() -> {
          go.await();
          for (int i = 0; i < perKey / 2; i++) {
            int key = thread % keys;
            int id = thread * perKey + i;
            if (inSubmit.incrementAndGet() > 1) {
              concurrentSubmits.incrementAndGet();
            }
            // the order of subscription is what the serializer promises; record it under the key's lock
            synchronized (subscribedOrder.computeIfAbsent(key, k -> new ArrayList<>())) {
              subscribedOrder.get(key).add(id);
              s.submit(key, () -> {
                if (running.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() > 1) {
                  overlaps.incrementAndGet();
                }
                runOrder.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(id);
                Sinks.One<Integer> end = Sinks.one();
                finishers.execute(() -> {
                  running.get(key).decrementAndGet();
                  end.tryEmitValue(id);
                });
                return end.asMono();
              }).subscribe(v -> done.countDown());
            }
            inSubmit.decrementAndGet();
          }
          return null;
        });
      }
      go.countDown();
      assertTrue(done.await(60, TimeUnit.SECONDS), "not every task finished: " + done.getCount() + " left");
    } finally {
      submitters.shutdownNow();
      finishers.shutdownNow();
    }
    assertTrue(concurrentSubmits.get() > 0, "the submitting threads never overlapped: the race was not tried");
    assertEquals(0, overlaps.get(), "two tasks of one key ran at once");
    for (int key = 0; key < keys; key++) {
      assertEquals(subscribedOrder.get(key), runOrder.get(key), "key " + key + " ran out of order");
    }
    assertEquals(0, s.activeKeys());
  }
}
