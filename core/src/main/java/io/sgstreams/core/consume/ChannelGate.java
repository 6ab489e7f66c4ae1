package io.sgstreams.core.consume;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * The Router's side of {@link ChannelTurns}: per conversation, the entries this worker holds wait in
 * stream-id order (a claimed earlier entry goes in front); the earliest asks for its turn (again after
 * 2, 4, … 50 ms while an earlier entry is pending elsewhere), runs when granted, and the next one asks
 * once it {@linkplain ChannelTurns#finished finished}. An entry no longer pending under this consumer
 * ({@link ChannelTurns.Turn#GONE}: it stalled and another consumer took it, or it was acknowledged
 * elsewhere) is dropped without running.
 *
 * <p>Every waiting entry is parked ({@link ChannelTurns#parked}): it lends its in-flight slot to claims
 * and one more entry is requested, so a worker whose slots all wait still claims the entry they wait
 * for (a dead worker's, or a failed one due for its retry); reads stay within the bound. Stopping gives
 * back every waiting entry: it stays pending, keeps its ticket, and its delivery count is restored
 * ({@link ChannelTurns#deferred}).
 */
final class ChannelGate {
  private static final Logger log = LoggerFactory.getLogger(ChannelGate.class);
  private static final long FIRST_POLL_MS = 2;
  private static final long MAX_POLL_MS = 50;

  private final ChannelTurns turns;
  private final Runnable requestOneMore;
  /** Conversation → its lane; guarded by itself, as is every lane's and waiter's state. */
  private final Map<String, Lane> lanes = new HashMap<>();
  private volatile boolean stopped;

  ChannelGate(ChannelTurns turns, Runnable requestOneMore) {
    this.turns = turns;
    this.requestOneMore = requestOneMore;
  }

  /** One entry waiting for its turn, then running. */
  private static final class Waiter {
    final Delivery d;
    final Supplier<Mono<Void>> task;
    final MonoSink<Void> sink;
    Disposable running;
    boolean cancelled;
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
    /** Asking for a turn, waiting to ask again, or running. */
    boolean busy;
    long pollMs = FIRST_POLL_MS;

    Lane(String key) {
      this.key = key;
    }
  }

  /** Completes once {@code task} ran (in turn), or at once when the entry was given back or dropped instead. */
  Mono<Void> submit(String key, Delivery d, Supplier<Mono<Void>> task) {
    if (key == null) {
      return Mono.defer(task);
    }
    long[] id = parseId(d.id());
    return Mono.create(sink -> {
      Waiter w = new Waiter(d, task, sink);
      Lane lane;
      Waiter replaced;
      synchronized (lanes) {
        lane = lanes.computeIfAbsent(key, Lane::new);
        // the same entry again (it was taken over while it waited here, then claimed back): the newer delivery wins
        replaced = lane.waiting.put(id, w);
        w.parked = true;
      }
      turns.parked(1);
      requestOneMore.run();
      if (replaced != null) {
        drop(replaced, "delivered again");
      }
      sink.onCancel(() -> cancel(lane, id, w));
      next(lane);
    });
  }

  private void cancel(Lane lane, long[] id, Waiter w) {
    Disposable r;
    synchronized (lanes) {
      w.cancelled = true;
      if (lane.waiting.get(id) == w) {
        lane.waiting.remove(id);
        dropIfIdle(lane);
      }
      r = w.running;
    }
    unpark(w);
    if (r != null) {
      r.dispose(); // the drain timed out: the handler is cancelled, the entry stays pending
    }
  }

  /** The earliest waiting entry of {@code lane} asks for its turn, unless the lane is busy. */
  private void next(Lane lane) {
    Waiter w;
    boolean giveBack;
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
      giveBack = stopped || w.d.lost();
      if (giveBack) {
        lane.waiting.pollFirstEntry();
      } else {
        lane.busy = true;
      }
    }
    if (giveBack) {
      if (stopped) {
        giveBack(w);
      } else {
        drop(w, "taken over by another consumer while it waited");
      }
      next(lane);
      return;
    }
    turns.turn(lane.key, w.d).subscribe(t -> answered(lane, w, t), e -> {
      log.warn("could not ask for the turn of {} on {}: {}", w.d.id(), w.d.stream(), e.toString());
      answered(lane, w, ChannelTurns.Turn.WAIT);
    });
  }

  private void answered(Lane lane, Waiter w, ChannelTurns.Turn turn) {
    boolean current;
    long delay = 0;
    synchronized (lanes) {
      var first = lane.waiting.firstEntry();
      current = first != null && first.getValue() == w; // else: an earlier entry arrived, or w was cancelled
      if (current && turn != ChannelTurns.Turn.WAIT) {
        lane.waiting.pollFirstEntry();
        lane.pollMs = FIRST_POLL_MS;
      } else if (current) {
        delay = lane.pollMs;
        lane.pollMs = Math.min(MAX_POLL_MS, lane.pollMs * 2);
      } else {
        lane.busy = false;
      }
    }
    if (!current) {
      next(lane);
    } else if (turn == ChannelTurns.Turn.YOURS) {
      run(lane, w);
    } else if (turn == ChannelTurns.Turn.GONE) {
      synchronized (lanes) {
        lane.busy = false;
      }
      drop(w, "no longer pending under this consumer");
      next(lane);
    } else {
      Mono.delay(Duration.ofMillis(delay)).subscribe(t -> {
        synchronized (lanes) {
          lane.busy = false;
        }
        next(lane);
      });
    }
  }

  private void run(Lane lane, Waiter w) {
    unpark(w);
    Disposable d = Mono.defer(w.task)
        .onErrorResume(e -> Mono.empty())
        .then(Mono.defer(() -> turns.finished(lane.key, w.d)).onErrorResume(e -> {
          log.warn("could not release the turn of {} on {} (the next check pops it): {}", w.d.id(), w.d.stream(), e.toString());
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
    boolean cancelled;
    synchronized (lanes) {
      w.running = d;
      cancelled = w.cancelled;
    }
    if (cancelled) {
      d.dispose(); // cancelled between the grant and the subscription
    }
  }

  /** Stops: every waiting entry is given back (it stays pending and keeps its ticket); running ones finish. */
  void stop() {
    stopped = true;
    List<Lane> all;
    synchronized (lanes) {
      all = List.copyOf(lanes.values());
    }
    all.forEach(this::next);
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

  /** Not run here: another consumer has it (or had it); this delivery is released, nothing else. */
  private void drop(Waiter w, String why) {
    log.debug("{} on {} not run here ({})", w.d.id(), w.d.stream(), why);
    unpark(w);
    w.d.release();
    w.sink.success();
  }

  /** Stopping: released without running, its ticket kept and its delivery count restored. */
  private void giveBack(Waiter w) {
    unpark(w);
    w.d.release();
    turns.deferred(w.d).onErrorResume(e -> {
      log.warn("could not restore the delivery count of {} on {} (its next claim counts as an attempt): {}",
          w.d.id(), w.d.stream(), e.toString());
      return Mono.empty();
    }).doFinally(s -> w.sink.success()).subscribe();
  }

  /** {@code ms-seq} as two longs; a malformed id sorts first. */
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
