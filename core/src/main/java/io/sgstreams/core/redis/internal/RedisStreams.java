package io.sgstreams.core.redis.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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
    return new RedisStreams(newClient(), uri, true, Duration.ofSeconds(10));
  }

  /**
   * A Lettuce client set up for this pipeline: {@link #defaultOptions()}, and flush consolidation
   * on every connection. Lettuce flushes after every command; under load that is one write
   * syscall per command. Netty's {@link FlushConsolidationHandler} merges the flushes issued
   * while a read is in progress (the replies that triggered them) or within one event-loop
   * turn, so pipelined commands leave in one write. The caller shuts the client down.
   */
  public static RedisClient newClient() {
    ClientResources resources = ClientResources.builder()
        .nettyCustomizer(new NettyCustomizer() {
          @Override
          public void afterChannelInitialized(Channel channel) {
            channel.pipeline().addFirst(new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
          }
        })
        .build();
    RedisClient client = new OwningClient(resources);
    client.setOptions(defaultOptions());
    return client;
  }

  /** A client that also shuts down the resources it was built with. */
  private static final class OwningClient extends RedisClient {
    private final ClientResources resources;

    OwningClient(ClientResources resources) {
      super(resources, new RedisURI());
      this.resources = resources;
    }

    @Override
    public CompletableFuture<Void> shutdownAsync(long quietPeriod, long timeout, TimeUnit unit) {
      return super.shutdownAsync(quietPeriod, timeout, unit).thenCompose(v -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        resources.shutdown(quietPeriod, timeout, unit).addListener(f -> done.complete(null));
        return done;
      });
    }
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

  /**
   * The same shared connection's async commands, for the per-message paths (XADD, XACK): a
   * reactive command allocates a publisher and a queue per call, the async one only a future.
   */
  public RedisAsyncCommands<String, byte[]> async() {
    return shared.async();
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
