package io.sgstreams.core.consume;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The Router's side of {@link ChannelTurns}: per conversation, the entries this worker holds wait in
 * stream-id order; the earliest asks for its turn (again after 2, 4, … 50 ms while another worker's
 * entry is ahead), runs when granted, and the next one asks once it {@linkplain ChannelTurns#finished
 * finished}. The earliest entry of a conversation denied its turn is parked ({@link ChannelTurns#parked}):
 * it lends its slot to claims, and one more entry is requested, so a worker whose slots all wait for a
 * dead worker's entry still claims it (claims take the oldest idle entries first, and the oldest pending
 * entry of the group is always the head of its conversation). Stopping gives back every waiting entry:
 * it stays pending, keeps its ticket, its delivery count restored ({@link ChannelTurns#deferred}).
 */
final class ChannelGate {
  private static final Logger log = LoggerFactory.getLogger(ChannelGate.class);
  private static final long FIRST_POLL_MS = 2;
  private static final long MAX_POLL_MS = 50;

  private final ChannelTurns turns;
  private final Runnable requestOneMore;
  private final Map<String, Lane> lanes = new HashMap<>();
  private volatile boolean stopped;

  ChannelGate(ChannelTurns turns, Runnable requestOneMore) {
    this.turns = turns;
    this.requestOneMore = requestOneMore;
  }

  /** One entry waiting for its turn. */
  private static final class Waiter {
    final Delivery d;
    final Supplier<Mono<Void>> task;
    final MonoSink<Void> sink;
    volatile reactor.core.Disposable running;
    /** Denied its turn and counted in {@link ChannelTurns#parked} (guarded by the lanes lock). */
    boolean parked;

    Waiter(Delivery d, Supplier<Mono<Void>> task, MonoSink<Void> sink) {
      this.d = d;
      this.task = task;
      this.sink = sink;
    }
  }

  /** A conversation's entries held here, by stream id. */
  private static final class Lane {
    final String key;
    final TreeMap<long[], Waiter> waiting = new TreeMap<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    boolean busy; // asking or running
    long pollMs = FIRST_POLL_MS;

    Lane(String key) {
      this.key = key;
    }
  }

  /** Completes once {@code task} ran (in turn), or at once when the entry was released instead. */
  Mono<Void> submit(String key, Delivery d, Supplier<Mono<Void>> task) {
    if (key == null) {
      return Mono.defer(task);
    }
    long[] id = parseId(d.id());
    return Mono.create(sink -> {
      Waiter w = new Waiter(d, task, sink);
      Lane lane;
      synchronized (lanes) {
        lane = lanes.computeIfAbsent(key, Lane::new);
        lane.waiting.put(id, w);
      }
      sink.onCancel(() -> {
        synchronized (lanes) {
          if (lane.waiting.get(id) == w) {
            lane.waiting.remove(id);
            dropIfIdle(lane);
          }
        }
        unpark(w);
        reactor.core.Disposable r = w.running;
        if (r != null) {
          r.dispose(); // the drain timed out: the handler is cancelled, the entry stays pending
        }
      });
      next(lane);
    });
  }

  /** The earliest waiting entry of {@code lane} asks for its turn, unless one is asking or running. */
  private void next(Lane lane) {
    Waiter w;
    boolean ask;
    synchronized (lanes) {
      if (lane.busy) {
        return;
      }
      var first = lane.waiting.firstEntry();
      if (first == null) {
        dropIfIdle(lane);
        return;
      }
      w = first.getValue();
      ask = !stopped;
      if (ask) {
        lane.busy = true;
      } else {
        lane.waiting.pollFirstEntry();
      }
    }
    if (!ask) {
      unpark(w);
      release(w, "stopping");
      next(lane);
      return;
    }
    turns.isTurn(w.d).subscribe(ok -> answered(lane, w, ok), e -> {
      log.warn("could not ask for the turn of {} on {}: {}", w.d.id(), w.d.stream(), e.toString());
      answered(lane, w, false);
    });
  }

  private void answered(Lane lane, Waiter w, boolean ok) {
    boolean run;
    synchronized (lanes) {
      var first = lane.waiting.firstEntry();
      run = ok && first != null && first.getValue() == w;
      if (run) {
        lane.waiting.pollFirstEntry();
        lane.pollMs = FIRST_POLL_MS;
      }
    }
    if (run) {
      unpark(w);
      w.running = Mono.defer(w.task)
          .onErrorResume(e -> Mono.empty())
          .then(Mono.defer(() -> turns.finished(w.d)).onErrorResume(e -> {
            log.warn("could not release the turn of {} on {} (a later entry of its conversation waits until the next "
                + "check pops it): {}", w.d.id(), w.d.stream(), e.toString());
            return Mono.empty();
          }))
          .doFinally(s -> {
            synchronized (lanes) {
              lane.busy = false;
            }
            w.sink.success();
            next(lane);
          })
          .subscribe();
      return;
    }
    long delay;
    boolean earlierArrived;
    boolean park = false;
    synchronized (lanes) {
      if (!ok && !w.parked && !stopped) {
        w.parked = park = true;
      }
      var first = lane.waiting.firstEntry();
      earlierArrived = first != null && first.getValue() != w; // a claimed earlier entry, or w was cancelled
      delay = lane.pollMs;
      lane.pollMs = Math.min(MAX_POLL_MS, lane.pollMs * 2);
      if (earlierArrived) {
        lane.busy = false;
      }
    }
    if (park) {
      turns.parked(1);
      requestOneMore.run();
    }
    if (earlierArrived) {
      next(lane);
      return;
    }
    Mono.delay(Duration.ofMillis(delay)).subscribe(t -> {
      synchronized (lanes) {
        lane.busy = false;
      }
      next(lane);
    });
  }

  /** Stops: every waiting entry is released (it stays pending and keeps its ticket); running ones finish. */
  void stop() {
    stopped = true;
    java.util.List<Lane> all;
    synchronized (lanes) {
      all = java.util.List.copyOf(lanes.values());
    }
    all.forEach(this::next);
  }

  /** Conversations with entries waiting or running here. */
  int activeLanes() {
    synchronized (lanes) {
      return lanes.size();
    }
  }

  private void unpark(Waiter w) {
    boolean was;
    synchronized (lanes) {
      was = w.parked;
      w.parked = false;
    }
    if (was) {
      turns.parked(-1);
    }
  }

  private void dropIfIdle(Lane lane) {
    if (!lane.busy && lane.waiting.isEmpty()) {
      lanes.remove(lane.key, lane);
    }
  }

  private void release(Waiter w, String why) {
    log.debug("{} on {} released without running ({}): it stays pending and keeps its turn", w.d.id(), w.d.stream(), why);
    w.d.release();
    turns.deferred(w.d).onErrorResume(e -> {
      log.warn("could not restore the delivery count of {} on {} (its next claim counts as an attempt): {}",
          w.d.id(), w.d.stream(), e.toString());
      return Mono.empty();
    }).doFinally(s -> w.sink.success()).subscribe();
  }

  /** {@code ms-seq} as two longs; a malformed id sorts first (it runs without waiting for a turn it never had). */
  static long[] parseId(String id) {
    int dash = id.indexOf('-');
    try {
      return dash < 0 ? new long[] {Long.parseLong(id), 0}
          : new long[] {Long.parseLong(id, 0, dash, 10), Long.parseLong(id, dash + 1, id.length(), 10)};
    } catch (NumberFormatException e) {
      return new long[] {-1, 0};
    }
  }
}
