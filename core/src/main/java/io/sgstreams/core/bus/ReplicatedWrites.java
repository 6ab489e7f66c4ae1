package io.sgstreams.core.bus;

import io.lettuce.core.XAddArgs;
import io.sgstreams.core.redis.internal.BlockingConnection;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Publishes that return only once {@code replicas} replicas have the entry ({@code SG_PUBLISH_REPLICAS}):
 * Redis replicates asynchronously, so a master that dies right after answering an XADD may take the
 * entry with it; {@code WAIT n ms} after the write closes that window for the writes it covers.
 *
 * <p>WAIT covers the writes of the connection it is sent on, and blocks that connection while it
 * waits, so each stream gets a connection of its own to its master (a cluster slot's owner, found
 * again after a failover), carrying only these XADDs and their WAITs. WAITs are batched: an XADD
 * answered while a WAIT is outstanding joins the next one, so one WAIT round trip covers every
 * publish that completed meanwhile. Fewer replicas than asked within the timeout fails the publish
 * with {@link ReplicationTimeoutException}, although the entry was written (it may be handled; a client
 * retry should carry an Idempotency-Key).
 */
final class ReplicatedWrites {
  /** Longest WAIT: past it the publish fails (the entry stays written). */
  static final Duration WAIT_TIMEOUT = Duration.ofSeconds(1);

  private final RedisStreams redis;
  private final int replicas;
  private final Map<String, Writer> writers = new ConcurrentHashMap<>();

  ReplicatedWrites(RedisStreams redis, int replicas) {
    this.redis = redis;
    this.replicas = replicas;
  }

  int replicas() {
    return replicas;
  }

  Mono<String> xadd(String stream, XAddArgs args, Map<String, byte[]> fields) {
    return writers.computeIfAbsent(stream, Writer::new).xadd(args, fields);
  }

  void close() {
    writers.values().forEach(Writer::close);
  }

  /** A stream's writer connection and its WAIT batches. */
  private final class Writer {
    private final String stream;
    private volatile BlockingConnection conn;
    private boolean waiting;
    private Sinks.One<Long> next;

    Writer(String stream) {
      this.stream = stream;
    }

    Mono<String> xadd(XAddArgs args, Map<String, byte[]> fields) {
      return connection()
          .flatMap(c -> Mono.fromCompletionStage(() -> c.async().xadd(stream, args, fields)))
          .doOnError(e -> drop())
          .flatMap(id -> awaitReplicas().map(acked -> {
            if (acked < replicas) {
              throw new ReplicationTimeoutException(stream, id, replicas, acked, WAIT_TIMEOUT);
            }
            return id;
          }));
    }

    private Mono<BlockingConnection> connection() {
      BlockingConnection c = conn;
      if (c != null && c.isOpen()) {
        return Mono.just(c);
      }
      return redis.dedicated(WAIT_TIMEOUT, stream).doOnNext(nc -> conn = nc);
    }

    /** Joins the next WAIT (sent at once when none is outstanding). */
    private Mono<Long> awaitReplicas() {
      Sinks.One<Long> mine;
      boolean send;
      synchronized (this) {
        if (next == null) {
          next = Sinks.one();
        }
        mine = next;
        send = !waiting;
        if (send) {
          waiting = true;
          next = null;
        }
      }
      if (send) {
        sendWait(mine);
      }
      return mine.asMono();
    }

    private void sendWait(Sinks.One<Long> batch) {
      connection()
          .flatMap(c -> Mono.fromCompletionStage(() -> c.async().waitForReplication(replicas, WAIT_TIMEOUT.toMillis())))
          .subscribe(n -> {
            batch.tryEmitValue(n);
            afterWait();
          }, e -> {
            drop();
            batch.tryEmitError(e);
            afterWait();
          });
    }

    private void afterWait() {
      Sinks.One<Long> pending;
      synchronized (this) {
        pending = next;
        next = null;
        waiting = pending != null;
      }
      if (pending != null) {
        sendWait(pending);
      }
    }

    private void drop() {
      BlockingConnection c = conn;
      conn = null;
      if (c != null) {
        c.closeAsync();
      }
    }

    void close() {
      drop();
    }
  }
}
