package io.sgstreams.core.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * Redis connections for the stream layer: one shared, pipelined connection for every
 * non-blocking command (XADD, XACK, XAUTOCLAIM, XINFO, ...), and a dedicated connection per
 * blocking reader, because a blocking XREADGROUP holds its connection and would delay every
 * other command queued behind it (lettuce #917).
 *
 * <p>Keys are strings, values raw bytes: envelopes stay MessagePack end to end.
 */
public final class RedisStreams implements AutoCloseable {
  public static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  /** Commands queued while disconnected; past this they fail at once instead of piling up. */
  public static final int REQUEST_QUEUE_SIZE = 100_000;

  private final RedisClient client;
  private final RedisURI uri;
  private final boolean ownsClient;
  private final Duration commandTimeout;
  private final StatefulRedisConnection<String, byte[]> shared;

  private RedisStreams(RedisClient client, RedisURI uri, boolean ownsClient, Duration commandTimeout) {
    this.client = client;
    this.uri = uri;
    this.ownsClient = ownsClient;
    this.commandTimeout = commandTimeout;
    this.shared = client.connect(CODEC, uri);
    this.shared.setTimeout(commandTimeout);
  }

  /** A client of our own for {@code redisUrl}, closed with this object. */
  public static RedisStreams connect(String redisUrl) {
    RedisURI uri = RedisURI.create(redisUrl);
    RedisClient client = RedisClient.create();
    client.setOptions(defaultOptions());
    return new RedisStreams(client, uri, true, Duration.ofSeconds(10));
  }

  /** Uses a caller's client (its options are left as they are); the client is not closed here. */
  public static RedisStreams using(RedisClient client, RedisURI uri) {
    return new RedisStreams(client, uri, false, Duration.ofSeconds(10));
  }

  /**
   * Reconnect automatically; queue a bounded number of commands while disconnected; time every
   * command out (a dead connection must surface as an error, never as a hang).
   */
  public static ClientOptions defaultOptions() {
    return ClientOptions.builder()
        .autoReconnect(true)
        .requestQueueSize(REQUEST_QUEUE_SIZE)
        .timeoutOptions(TimeoutOptions.enabled())
        .socketOptions(SocketOptions.builder()
            .connectTimeout(Duration.ofSeconds(5))
            .keepAlive(true)
            .build())
        .build();
  }

  /** The shared, pipelined connection's reactive commands: never send a blocking command here. */
  public RedisReactiveCommands<String, byte[]> commands() {
    return shared.reactive();
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  /**
   * A new connection of its own for one blocking reader, with a command timeout above its BLOCK
   * time. The caller closes it.
   */
  public Mono<StatefulRedisConnection<String, byte[]>> dedicated(Duration block) {
    return Mono.fromCompletionStage(() -> client.connectAsync(CODEC, uri).toCompletableFuture())
        .doOnNext(c -> c.setTimeout(block.plus(commandTimeout)));
  }

  public RedisURI uri() {
    return uri;
  }

  @Override
  public void close() {
    shared.close();
    if (ownsClient) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
