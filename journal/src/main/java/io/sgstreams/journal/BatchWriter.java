package io.sgstreams.journal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * Collects items into batches (at most {@code batchSize}, or whatever arrived within
 * {@code flush}) and writes each with {@code write}; {@link #submit}'s Mono completes when its
 * item's batch is committed. A failed write is retried with exponential backoff (100 ms doubling
 * to {@code retryMax}) for as long as the writer is open: items are never dropped, and callers
 * simply wait (their stream entries stay pending). Up to {@code parallel} batches are written at
 * once. After {@link #close()} the items waiting fail with {@link ClosedException}.
 */
final class BatchWriter<T> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  /** The writer closed before the item was written. */
  static final class ClosedException extends RuntimeException {
    ClosedException() {
      super("the journal writer closed before the entry was written");
    }
  }

  private record Item<T>(T value, Sinks.Empty<Void> done) {}

  private final String name;
  private final Sinks.Many<Item<T>> queue = Sinks.many().unicast().onBackpressureBuffer();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicLong failures = new AtomicLong();
  private final Disposable loop;

  BatchWriter(String name, Function<List<T>, Mono<Long>> write, int batchSize, Duration flush, int parallel,
      Duration retryMax) {
    this.name = name;
    this.loop = queue.asFlux()
        .bufferTimeout(batchSize, flush, true)
        .flatMap(batch -> writeWithRetry(write, batch, retryMax), parallel)
        .subscribe(v -> {}, e -> log.error("journal writer {} stopped: {}", name, e.toString(), e));
  }

  private Mono<Void> writeWithRetry(Function<List<T>, Mono<Long>> write, List<Item<T>> batch, Duration retryMax) {
    List<T> values = new ArrayList<>(batch.size());
    batch.forEach(i -> values.add(i.value()));
    return Mono.defer(() -> write.apply(values))
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100)).maxBackoff(retryMax).jitter(0.2)
            .filter(e -> !closed.get())
            .doBeforeRetry(s -> {
              long n = failures.incrementAndGet();
              if (s.totalRetriesInARow() == 0 || s.totalRetriesInARow() % 10 == 0) {
                log.warn("journal writer {}: writing {} rows failed ({} in a row), retrying: {}", name, values.size(),
                    s.totalRetriesInARow() + 1, s.failure().toString());
              }
            }))
        .doOnSuccess(v -> {
          batch.forEach(i -> i.done().tryEmitEmpty());
          waiting.addAndGet(-batch.size());
        })
        .onErrorResume(e -> {
          Throwable cause = closed.get() ? new ClosedException() : e;
          batch.forEach(i -> i.done().tryEmitError(cause));
          waiting.addAndGet(-batch.size());
          return Mono.empty();
        })
        .then();
  }

  /** Queues {@code value}; completes once it is committed. */
  Mono<Void> submit(T value) {
    return Mono.defer(() -> {
      if (closed.get()) {
        return Mono.error(new ClosedException());
      }
      Sinks.Empty<Void> done = Sinks.empty();
      waiting.incrementAndGet();
      Sinks.EmitResult r;
      synchronized (queue) {
        r = queue.tryEmitNext(new Item<>(value, done));
      }
      if (r.isFailure()) {
        waiting.decrementAndGet();
        return Mono.error(new ClosedException());
      }
      return done.asMono();
    });
  }

  /** Items submitted and not yet written. */
  int waiting() {
    return waiting.get();
  }

  /** Write attempts that failed (and were retried). */
  long failures() {
    return failures.get();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      synchronized (queue) {
        queue.tryEmitComplete();
      }
    }
  }

  /** Stops at once: batches being retried fail their items. */
  void dispose() {
    close();
    loop.dispose();
  }
}
