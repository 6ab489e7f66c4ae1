package io.sgstreams.core.consume;

import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandKeyword;
import io.lettuce.core.protocol.CommandType;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.redis.internal.StreamEntriesOutput;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.redis.internal.BlockingConnection;
import io.sgstreams.core.redis.internal.RedisErrors;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Follows one stream without a consumer group: {@code XREAD COUNT n BLOCK ms} from an id, on a
 * connection of its own (a blocking read must not hold the shared connection), handing every
 * entry to {@code sink} in stream order. Every reader sees every entry (the gateway's reply
 * fan-out, SSE and WebSocket). No gaps: it starts from an explicit id (the stream's current end,
 * read with retries, never {@code $}), and after an error reconnects with backoff and resumes
 * from the last id it handed out.
 */
public final class StreamTail {
  private static final Logger log = LoggerFactory.getLogger(StreamTail.class);
  /** Entries per read. */
  public static final int READ_COUNT = 200;
  private static final Duration BLOCK = Duration.ofSeconds(2);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  /** Short: after a failover the slot's new master is there within seconds (promotion ≈ 2.5 s at a 1 s node timeout). */
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

  private final RedisEventBus bus;
  private final String stream;
  private final Consumer<StreamEntry> sink;
  private volatile BlockingConnection conn;
  private volatile boolean stopped;
  private volatile boolean healthy;
  private volatile String lastId;
  private int failures;

  private StreamTail(RedisEventBus bus, String stream, Consumer<StreamEntry> sink) {
    this.bus = bus;
    this.stream = stream;
    this.sink = sink;
  }

  /** A tail of {@code stream} handing entries to {@code sink} (called on one thread at a time, in order); not started. */
  public static StreamTail of(RedisEventBus bus, String stream, Consumer<StreamEntry> sink) {
    return new StreamTail(bus, stream, sink);
  }

  /** Starts after the stream's current last entry (read with retries); completes once positioned. */
  public Mono<Void> start() {
    return bus.lastGeneratedId(stream)
        .retryWhen(reactor.util.retry.Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
            .filter(e -> !stopped)
            .doBeforeRetry(s -> {
              if (s.totalRetries() == 0 || s.totalRetries() % 20 == 0) {
                log.warn("tail of {} cannot read where the stream ends (attempt {}); retrying: {}",
                    stream, s.totalRetries() + 1, s.failure().toString());
              }
            }))
        .flatMap(this::startAfter);
  }

  /** Starts after {@code id} (exclusive); completes at once. */
  public Mono<Void> startAfter(String id) {
    return Mono.fromRunnable(() -> {
      lastId = id;
      healthy = true;
      pump();
    });
  }

  /** Reading, and the last read did not fail. */
  public boolean alive() {
    return !stopped && healthy;
  }

  public String stream() {
    return stream;
  }

  /** The id of the last entry handed out (or the start position). */
  public String lastId() {
    return lastId;
  }

  private void pump() {
    if (stopped) {
      return;
    }
    connection()
        // async, not reactive: no publisher, queue and collector per read (one read per entry at low rates)
        // the reply parsed straight into entries (StreamEntriesOutput)
        .flatMap(c -> Mono.fromCompletionStage(() -> c.async().dispatch(CommandType.XREAD,
                new StreamEntriesOutput<StreamEntry>((id, body) -> new StreamEntry(stream, id, body)),
                new CommandArgs<>(RedisStreams.CODEC).add(CommandKeyword.COUNT).add(READ_COUNT)
                    .add(CommandKeyword.BLOCK).add(BLOCK.toMillis()).add("STREAMS").addKey(stream).add(lastId)))
            .defaultIfEmpty(List.of()))
        .subscribe(this::onBatch, this::onError);
  }

  private Mono<BlockingConnection> connection() {
    BlockingConnection c = conn;
    if (c != null && c.isOpen()) {
      return Mono.just(c);
    }
    return bus.connections().dedicated(BLOCK, stream).doOnNext(nc -> conn = nc);
  }

  private void onBatch(List<StreamEntry> batch) {
    if (failures > 0) {
      log.info("tail of {} reading again after {} failed attempts", stream, failures);
    }
    failures = 0;
    healthy = true;
    for (StreamEntry m : batch) {
      lastId = m.id();
      try {
        sink.accept(m);
      } catch (RuntimeException e) {
        log.error("tail of {}: handling {} failed", stream, m.id(), e);
      }
    }
    pump();
  }

  private void onError(Throwable e) {
    if (stopped) {
      return;
    }
    failures++;
    healthy = false;
    BlockingConnection c = conn;
    conn = null;
    if (c != null) {
      c.closeAsync();
    }
    Duration pause = RedisErrors.backoff(failures - 1, FIRST_BACKOFF, MAX_BACKOFF);
    if (failures == 1 || failures % 20 == 0) {
      log.warn("tail of {} failed (attempt {}), retrying in {} ms from {}: {}", stream, failures, pause.toMillis(), lastId, e.toString());
    }
    Mono.delay(pause).subscribe(t -> pump());
  }

  /** Stops following: closing the connection ends the blocked read at once. */
  public Mono<Void> stop() {
    stopped = true;
    BlockingConnection c = conn;
    conn = null;
    return c == null ? Mono.empty() : Mono.fromCompletionStage(c.closeAsync()).onErrorResume(e -> Mono.empty());
  }
}
