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

  /**
   * A stream's writer connection and the WAIT batches of the XADDs made on it. A batch is only ever
   * confirmed by a WAIT on the connection its XADDs ran on (WAIT covers the writes of its own
   * connection): when that connection is replaced (closed after an error), its outstanding batches
   * fail as unconfirmed instead of being "confirmed" by a WAIT elsewhere.
   */
  private final class Writer {
    private final String stream;
    private Mono<BlockingConnection> connecting;
    private BlockingConnection conn;
    private boolean waiting;
    private Sinks.One<Long> next;

    Writer(String stream) {
      this.stream = stream;
    }

    Mono<String> xadd(XAddArgs args, Map<String, byte[]> fields) {
      return connection().flatMap(c -> Mono.fromCompletionStage(() -> c.async().xadd(stream, args, fields))
          .doOnError(e -> drop(c))
          // written: from here on a failure is "not confirmed", never a reason to write it again
          .flatMap(id -> awaitReplicas(c)
              .onErrorMap(e -> new ReplicationTimeoutException(stream, id, replicas, 0, WAIT_TIMEOUT))
              .map(acked -> {
                if (acked < replicas) {
                  throw new ReplicationTimeoutException(stream, id, replicas, acked, WAIT_TIMEOUT);
                }
                return id;
              })));
    }

    /** The writer connection, opened once however many publishes ask for it at the same time. */
    private synchronized Mono<BlockingConnection> connection() {
      if (conn != null && conn.isOpen()) {
        return Mono.just(conn);
      }
      if (connecting == null) {
        connecting = redis.dedicatedPipelined(WAIT_TIMEOUT, stream)
            .doOnNext(c -> {
              synchronized (Writer.this) {
                conn = c;
                waiting = false;
                next = null;
                connecting = null;
              }
            })
            .doOnError(e -> {
              synchronized (Writer.this) {
                connecting = null;
              }
            })
            .cache();
      }
      return connecting;
    }

    /** Joins the next WAIT on {@code c} (sent at once when none is outstanding). */
    private Mono<Long> awaitReplicas(BlockingConnection c) {
      Sinks.One<Long> mine;
      boolean send;
      synchronized (this) {
        if (c != conn) {
          return Mono.error(new IllegalStateException("the writer connection was replaced before the WAIT"));
        }
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
        sendWait(c, mine);
      }
      return mine.asMono();
    }

    private void sendWait(BlockingConnection c, Sinks.One<Long> batch) {
      Mono.fromCompletionStage(() -> c.async().waitForReplication(replicas, WAIT_TIMEOUT.toMillis()))
          .subscribe(n -> {
            batch.tryEmitValue(n);
            afterWait(c);
          }, e -> {
            batch.tryEmitError(e);
            drop(c);
          });
    }

    private void afterWait(BlockingConnection c) {
      Sinks.One<Long> pending;
      synchronized (this) {
        if (c != conn) {
          return; // drop() failed the batches of the replaced connection
        }
        pending = next;
        next = null;
        waiting = pending != null;
      }
      if (pending != null) {
        sendWait(c, pending);
      }
    }

    /** Closes {@code c}; if it is the current connection, its batch still waiting to be sent fails. */
    private void drop(BlockingConnection c) {
      Sinks.One<Long> orphaned = null;
      synchronized (this) {
        if (conn == c) {
          conn = null;
          orphaned = next;
          next = null;
          waiting = false;
        }
      }
      if (orphaned != null) {
        orphaned.tryEmitError(new IllegalStateException("the writer connection failed before the WAIT"));
      }
      c.closeAsync();
    }

    void close() {
      BlockingConnection c;
      synchronized (this) {
        c = conn;
      }
      if (c != null) {
        drop(c);
      }
    }
  }
}
