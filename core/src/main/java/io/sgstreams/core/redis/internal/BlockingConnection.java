package io.sgstreams.core.redis.internal;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.concurrent.CompletableFuture;
import reactor.core.publisher.Mono;

/**
 * A connection of its own for one blocking reader (XREADGROUP / XREAD with BLOCK), opened by
 * {@link RedisStreams#dedicated}: against one server, a new connection to it; on a Redis Cluster,
 * a new connection to the master that owns the read key's slot. Its blocked read can be ended
 * from outside with {@link #unblock()} ({@code CLIENT UNBLOCK}, sent to the node this connection
 * is on, over the shared connection).
 */
public interface BlockingConnection {
  /** Commands on this connection (the blocking reads); never shared with other callers. */
  RedisClusterAsyncCommands<String, byte[]> async();

  /** {@code CLIENT ID} of this connection, read once and then remembered. */
  Mono<Long> clientId();

  /**
   * Ends this connection's outstanding blocking read ({@code CLIENT UNBLOCK id TIMEOUT}, as if it
   * timed out); nothing when its client id is not known yet. Errors are dropped.
   */
  void unblock();

  boolean isOpen();

  CompletableFuture<Void> closeAsync();
}
