package io.sgstreams.core.consume.internal;

import io.sgstreams.core.redis.internal.RedisErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Group commit of XACKs for one (stream, group): at most one XACK is in flight; ids acked
 * meanwhile wait and go together in the next one (up to {@code batch}). An idle consumer acks
 * at once; a busy one sends large batches, with no timer in between. Transient errors are retried
 * a few times; after that the entries stay pending and are redelivered.
 */
public final class AckCommitter {
  private static final Logger log = LoggerFactory.getLogger(AckCommitter.class);

  /** Sends one XACK of {@code ids}; completes with the number acknowledged. */
  @FunctionalInterface
  public interface Xack {
    CompletionStage<Long> xack(String stream, String group, String[] ids);
  }

  /** Told of every XACK that succeeded. */
  @FunctionalInterface
  public interface Listener {
    void acked(String stream, String group, int ids);
  }

  private record Pending(String id, MonoSink<Void> sink) {}

  private final Xack redis;
  private final String stream;
  private final String group;
  private final int batch;
  private final Listener listener;
  private final Duration firstBackoff;
  private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean busy = new AtomicBoolean();

  public AckCommitter(Xack redis, String stream, String group, int batch, Listener listener) {
    this(redis, stream, group, batch, listener, Duration.ofMillis(50));
  }

  AckCommitter(Xack redis, String stream, String group, int batch, Listener listener, Duration firstBackoff) {
    this.redis = redis;
    this.stream = stream;
    this.group = group;
    this.batch = batch;
    this.listener = listener;
    this.firstBackoff = firstBackoff;
  }

  /** Queues {@code id}; the Mono completes when Redis confirmed its XACK. Starts on subscription. */
  public Mono<Void> ack(String id) {
    return Mono.create(sink -> {
      queue.add(new Pending(id, sink));
      drain();
    });
  }

  /** True when nothing is queued or in flight. */
  public boolean idle() {
    return !busy.get() && queue.isEmpty();
  }

  private void drain() {
    if (!busy.compareAndSet(false, true)) {
      return;
    }
    List<Pending> taken = new ArrayList<>(Math.min(batch, 64));
    Pending p;
    while (taken.size() < batch && (p = queue.poll()) != null) {
      taken.add(p);
    }
    if (taken.isEmpty()) {
      busy.set(false);
      if (!queue.isEmpty()) {
        drain();
      }
      return;
    }
    String[] ids = new String[taken.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = taken.get(i).id();
    }
    RedisErrors.withRetries(() -> Mono.fromCompletionStage(() -> redis.xack(stream, group, ids)), 4, firstBackoff, Duration.ofSeconds(1))
        .subscribe(
            n -> listener.acked(stream, group, ids.length),
            e -> {
              log.warn("XACK of {} entries failed on {} for group {}; they stay pending and will be redelivered: {}",
                  ids.length, stream, group, e.toString());
              taken.forEach(t -> t.sink().error(e));
              next();
            },
            () -> {
              taken.forEach(t -> t.sink().success());
              next();
            });
  }

  private void next() {
    busy.set(false);
    if (!queue.isEmpty()) {
      drain();
    }
  }
}
