package io.sgstreams.core.redis;

import io.sgstreams.core.redis.internal.RedisClients;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.redis.internal.RedisUrl;
import java.time.Duration;

/**
 * One process's connection to Redis: a client (event loops, buffers) that every
 * {@link io.sgstreams.core.bus.RedisEventBus} of the process shares, each bus opening its own
 * connections on it. Open one per process ({@link #connect(String)}) and close it after the buses.
 * Opaque on purpose: Redis is reached only through core's typed services.
 *
 * <p>The URL may name one server ({@code redis://h:p}) or a Redis Cluster ({@code
 * redis-cluster://h1:p1,h2:p2}, {@code rediss-cluster://…}, or {@code redis://} with several
 * hosts); a single-host URL that points at a cluster node switches to cluster mode when the first
 * bus opens (see {@link RedisUrl}).
 */
public final class Redis implements AutoCloseable {
  private final RedisClients clients;

  private Redis(RedisClients clients) {
    this.clients = clients;
  }

  /** Clients set up for this pipeline ({@link RedisStreams#newClient()}) for {@code url}. Connects lazily. */
  public static Redis connect(String url) {
    return new Redis(RedisClients.create(url));
  }

  /** The URL with any password masked. */
  public String displayUrl() {
    RedisUrl u = clients.url();
    return u.seeds().size() == 1 && !u.cluster()
        ? RedisUrl.mask(u.single().toString())
        : RedisUrl.mask(u.original());
  }

  /** True once a bus found a Redis Cluster (the URL says so, or the server is a cluster node). */
  public boolean isCluster() {
    return clients.isCluster();
  }

  /** For core's own use: connections on the process's clients (the first call decides standalone or cluster). */
  public RedisStreams open() {
    return clients.open(Duration.ofSeconds(10));
  }

  @Override
  public void close() {
    clients.close();
  }
}
