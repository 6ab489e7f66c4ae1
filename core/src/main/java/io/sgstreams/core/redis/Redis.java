package io.sgstreams.core.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;

/**
 * One process's connection to Redis: a client (event loops, buffers) that every
 * {@link io.sgstreams.core.bus.RedisEventBus} of the process shares, each bus opening its own
 * connections on it. Open one per process ({@link #connect(String)}) and close it after the buses.
 * Opaque on purpose: Redis is reached only through core's typed services.
 */
public final class Redis implements AutoCloseable {
  private final RedisClient client;
  private final RedisURI uri;

  private Redis(RedisClient client, RedisURI uri) {
    this.client = client;
    this.uri = uri;
  }

  /** A client set up for this pipeline ({@link RedisStreams#newClient()}) for {@code url}. Connects lazily. */
  public static Redis connect(String url) {
    return new Redis(RedisStreams.newClient(), RedisURI.create(url));
  }

  /** The URL with any password masked. */
  public String displayUrl() {
    return uri.toString().replaceAll("//[^@/]*@", "//***@");
  }

  /** For core's own use: the Lettuce client and address. */
  public RedisStreams open() {
    return RedisStreams.using(client, uri);
  }

  @Override
  public void close() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
