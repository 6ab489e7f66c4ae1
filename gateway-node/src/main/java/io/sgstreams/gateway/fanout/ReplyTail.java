package io.sgstreams.gateway.fanout;

import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.envelope.EnvelopeException;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.redis.RedisErrors;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Follows one outbound stream with plain {@code XREAD COUNT n BLOCK ms} on a connection of its
 * own (a blocking read must not hold the shared connection), from the stream's last id at
 * startup; every decoded reply goes to {@code sink} in stream order. No consumer group: every
 * gateway node sees every reply, and delivery to clients is in-process. Undecodable entries are
 * skipped here (the webhook consumer, not this tail, owns dead-lettering). Read errors reconnect
 * with backoff and resume from the last id seen, so nothing is skipped.
 */
public final class ReplyTail {
  private static final Logger log = LoggerFactory.getLogger(ReplyTail.class);
  static final int READ_COUNT = 200;
  static final Duration BLOCK = Duration.ofSeconds(2);

  private final RedisEventBus bus;
  private final String stream;
  private final Consumer<ReplyEvent> sink;
  private volatile StatefulRedisConnection<String, byte[]> conn;
  private volatile boolean stopped;
  private volatile boolean healthy;
  private volatile String lastId;
  private int failures;

  public ReplyTail(RedisEventBus bus, String stream, Consumer<ReplyEvent> sink) {
    this.bus = bus;
    this.stream = stream;
    this.sink = sink;
  }

  /** Resolves the current end of the stream, then starts following; completes once started. */
  public Mono<Void> start() {
    return bus.streamInfo(stream)
        .map(i -> i.lastGeneratedId() == null ? "0-0" : i.lastGeneratedId())
        .onErrorReturn("$")
        .doOnNext(id -> {
          lastId = id;
          healthy = true;
          pump();
        })
        .then();
  }

  /** The reader is running and its last read did not fail. */
  public boolean alive() {
    return !stopped && healthy;
  }

  public String stream() {
    return stream;
  }

  private void pump() {
    if (stopped) {
      return;
    }
    connection()
        // async, not reactive: no publisher, queue and collector per read (one read per reply at low rates)
        .flatMap(c -> Mono.fromCompletionStage(() -> c.async()
                .xread(XReadArgs.Builder.count(READ_COUNT).block(BLOCK), XReadArgs.StreamOffset.from(stream, lastId)))
            .defaultIfEmpty(List.of()))
        .subscribe(this::onBatch, this::onError);
  }

  private Mono<StatefulRedisConnection<String, byte[]>> connection() {
    StatefulRedisConnection<String, byte[]> c = conn;
    if (c != null && c.isOpen()) {
      return Mono.just(c);
    }
    return bus.redis().dedicated(BLOCK).doOnNext(nc -> conn = nc);
  }

  private void onBatch(List<StreamMessage<String, byte[]>> batch) {
    failures = 0;
    healthy = true;
    for (StreamMessage<String, byte[]> m : batch) {
      lastId = m.getId();
      byte[] data = m.getBody().get(StreamFields.DATA);
      try {
        OutboundEnvelope o = bus.codec().decode(data, OutboundEnvelope.class);
        sink.accept(new ReplyEvent(stream, m.getId(), o));
      } catch (EnvelopeException | IllegalArgumentException | NullPointerException e) {
        log.warn("skipping undecodable outbound entry {} on {}: {}", m.getId(), stream, e.toString());
      } catch (RuntimeException e) {
        log.error("fan-out of {} on {} failed", m.getId(), stream, e);
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
    StatefulRedisConnection<String, byte[]> c = conn;
    conn = null;
    if (c != null) {
      c.closeAsync();
    }
    Duration pause = RedisErrors.backoff(failures - 1, Duration.ofMillis(100), Duration.ofSeconds(5));
    if (failures == 1 || failures % 20 == 0) {
      log.warn("reply tail on {} failed (attempt {}), retrying in {} ms: {}", stream, failures, pause.toMillis(), e.toString());
    }
    Mono.delay(pause).subscribe(t -> pump());
  }

  /** Stops following: closing the connection ends the blocked read at once. */
  public Mono<Void> stop() {
    stopped = true;
    StatefulRedisConnection<String, byte[]> c = conn;
    conn = null;
    return c == null ? Mono.empty() : Mono.fromCompletionStage(c.closeAsync()).onErrorResume(e -> Mono.empty());
  }
}
