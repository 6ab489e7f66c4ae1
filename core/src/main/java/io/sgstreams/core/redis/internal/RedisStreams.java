package io.sgstreams.core.redis.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.UnblockType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.reactive.RedisClusterReactiveCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.NettyCustomizer;
import io.netty.channel.Channel;
import io.netty.util.HashedWheelTimer;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Redis connections for the stream layer: one shared, pipelined connection for every
 * non-blocking command (XADD, XACK, XAUTOCLAIM, XINFO, ...), and a dedicated connection per
 * blocking reader, because a blocking XREADGROUP holds its connection and would delay every
 * other command queued behind it (lettuce #917).
 *
 * <p>Against one server the shared connection is a plain one. Against a Redis Cluster ({@link
 * RedisClients} decides) it is a cluster connection that routes every command by its key (a
 * script by its first key; every command the project sends touches one slot), and a blocking
 * reader's connection goes to the master that owns its key's slot ({@link #dedicated}).
 *
 * <p>Keys are strings, values raw bytes: envelopes stay MessagePack end to end.
 */
public final class RedisStreams implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisStreams.class);
  public static final RedisCodec<String, byte[]> CODEC = StreamCodec.INSTANCE;
  /** Commands queued while disconnected; past this they fail at once instead of piling up. */
  public static final int REQUEST_QUEUE_SIZE = 100_000;
  /**
   * The tick of the timer that times every command out. Lettuce's default timer ticks every
   * 100 ms, and a command's cancelled timeout (and through it the command, its arguments and its
   * output) stays reachable until the next tick: ~7,000 completed commands, a few MB, were live in
   * the closed-loop bench at every young collection, which copies them. A 10 ms tick keeps a
   * tenth of that for 100 wake-ups a second of an otherwise idle timer thread.
   */
  static final Duration TIMER_TICK = Duration.ofMillis(10);
  /** The initial size of the buffer each command is encoded into ({@link PresizedAllocator}); Netty's is 256 bytes. */
  static final int COMMAND_BUFFER_BYTES = 1024;
  /**
   * A blocking reader's connection has one command in flight at a time. Lettuce preallocates two
   * request queues of {@code requestQueueSize} slots per connection (~800 KB each at 100,000):
   * ten reader connections held 8 MB of empty arrays that every full collection scanned.
   */
  static final int READER_QUEUE_SIZE = 1_024;
  /** A blocking reader's new connection reads the cluster topology again unless it was read this recently. */
  private static final Duration TOPOLOGY_FRESH = Duration.ofSeconds(1);

  /** Standalone: every connection. Cluster: the blocking readers' connections to one master. */
  private final RedisClient client;
  /** Standalone: the server. Cluster: the first seed (credentials and TLS of every node). */
  private final RedisURI uri;
  /** Closed with this object (its own clients); null when the clients are the caller's. */
  private final AutoCloseable owned;
  private final Duration commandTimeout;
  /** Standalone only. */
  private final StatefulRedisConnection<String, byte[]> shared;
  /** Cluster only. */
  private final RedisClusterClient clusterClient;
  private final StatefulRedisClusterConnection<String, byte[]> clusterShared;
  private final Object refreshLock = new Object();
  /** {@link #client}'s resources and options but a small request queue: the blocking readers' connections. */
  private RedisClient readerClient;
  private boolean closed;
  private CompletableFuture<Void> refreshing;
  private volatile long refreshedAtNanos = System.nanoTime();
  /** Cluster: warms the new masters' connections after a topology change. */
  private final reactor.core.Disposable topologyWatch;

  private RedisStreams(RedisClient client, RedisURI uri, AutoCloseable owned, Duration commandTimeout,
      StatefulRedisConnection<String, byte[]> shared, RedisClusterClient clusterClient,
      StatefulRedisClusterConnection<String, byte[]> clusterShared) {
    this.client = client;
    this.uri = uri;
    this.owned = owned;
    this.commandTimeout = commandTimeout;
    this.shared = shared;
    this.clusterClient = clusterClient;
    this.clusterShared = clusterShared;
    this.topologyWatch = clusterShared == null ? null : clusterClient.getResources().eventBus().get()
        .filter(e -> e instanceof io.lettuce.core.cluster.event.ClusterTopologyChangedEvent)
        .subscribe(e -> warmUp(), e -> {});
  }

  /** Standalone on {@code client}; {@code shared} is connected here when null. */
  static RedisStreams standalone(AutoCloseable owned, RedisClient client, RedisURI uri,
      StatefulRedisConnection<String, byte[]> shared, Duration commandTimeout) {
    StatefulRedisConnection<String, byte[]> c = shared != null ? shared : client.connect(CODEC, uri);
    c.setTimeout(commandTimeout);
    return new RedisStreams(client, uri, owned, commandTimeout, c, null, null);
  }

  /** Cluster mode on {@code clusterClient}; {@code nodeClient} opens the blocking readers' connections. */
  static RedisStreams cluster(AutoCloseable owned, RedisClusterClient clusterClient, RedisClient nodeClient,
      RedisURI seed, Duration commandTimeout) {
    StatefulRedisClusterConnection<String, byte[]> c = clusterClient.connect(CODEC);
    c.setTimeout(commandTimeout);
    RedisStreams s = new RedisStreams(nodeClient, seed, owned, commandTimeout, null, clusterClient, c);
    try {
      s.warmUp().get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("not every master connected at once: {}", e.toString());
    }
    return s;
  }

  /**
   * Opens the shared cluster connection's connection to every master now. With {@code
   * REJECT_COMMANDS}, Lettuce rejects a command whose node connection is still being opened
   * ("Currently not connected"); opened lazily, the first commands to each master would fail.
   */
  private CompletableFuture<Void> warmUp() {
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (RedisClusterNode n : clusterShared.getPartitions()) {
      if (n.is(RedisClusterNode.NodeFlag.UPSTREAM) && !n.hasNoSlots()) {
        // keyed like the slot routing's connections (by host and port, write intent), not by node id
        all.add(clusterShared.getConnectionAsync(n.getUri().getHost(), n.getUri().getPort(),
            io.lettuce.core.protocol.ConnectionIntent.WRITE).exceptionally(e -> null));
      }
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }

  /**
   * A client of our own for {@code redisUrl}, closed with this object: a cluster when the URL says
   * so or the server is a cluster node (see {@link RedisUrl}, {@link RedisClients}).
   */
  public static RedisStreams connect(String redisUrl) {
    RedisClients clients = RedisClients.create(redisUrl);
    try {
      RedisStreams s = clients.open(Duration.ofSeconds(10));
      return new RedisStreams(s.client, s.uri, clients, s.commandTimeout, s.shared, s.clusterClient, s.clusterShared);
    } catch (RuntimeException e) {
      clients.close();
      throw e;
    }
  }

  /**
   * A Lettuce client set up for this pipeline: {@link #defaultOptions()}, no command latency recording, and flush consolidation
   * on every connection. Lettuce flushes after every command; under load that is one write
   * syscall per command. Netty's {@link FlushConsolidationHandler} merges the flushes issued
   * while a read is in progress (the replies that triggered them) or within one event-loop
   * turn, so pipelined commands leave in one write. The caller shuts the client down (which
   * shuts its resources down too: shut down any other client on them first).
   */
  public static RedisClient newClient() {
    HashedWheelTimer timer = new HashedWheelTimer(new DefaultThreadFactory("lettuce-timer", true),
        TIMER_TICK.toMillis(), TimeUnit.MILLISECONDS);
    ClientResources resources = ClientResources.builder()
        .timer(timer)
        // Lettuce records every command's latency in a histogram when HdrHistogram and LatencyUtils
        // are on the class path (they are: the bench); nothing reads them, and the recording was a
        // map lookup and several objects per command in the closed-loop profile
        .commandLatencyRecorder(io.lettuce.core.metrics.CommandLatencyRecorder.disabled())
        .nettyCustomizer(new NettyCustomizer() {
          @Override
          public void afterChannelInitialized(Channel channel) {
            channel.pipeline().addFirst(new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
            // each command is encoded into a buffer of unstated size: start it big enough for an envelope's XADD
            channel.config().setAllocator(new PresizedAllocator(channel.config().getAllocator(), COMMAND_BUFFER_BYTES));
          }
        })
        .build();
    RedisClient client = new OwningClient(resources, timer);
    client.setOptions(defaultOptions());
    return client;
  }

  /** A client that also shuts down the resources it was built with. */
  private static final class OwningClient extends RedisClient {
    private final ClientResources resources;
    private final HashedWheelTimer timer;

    OwningClient(ClientResources resources, HashedWheelTimer timer) {
      super(resources, new RedisURI());
      this.resources = resources;
      this.timer = timer;
    }

    @Override
    public CompletableFuture<Void> shutdownAsync(long quietPeriod, long timeout, TimeUnit unit) {
      return super.shutdownAsync(quietPeriod, timeout, unit).thenCompose(v -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        resources.shutdown(quietPeriod, timeout, unit).addListener(f -> {
          timer.stop(); // a timer given to the builder is the caller's to stop
          done.complete(null);
        });
        return done;
      });
    }
  }

  /** Uses a caller's client (its options are left as they are); the client is not closed here. Standalone. */
  public static RedisStreams using(RedisClient client, RedisURI uri) {
    return standalone(null, client, uri, null, Duration.ofSeconds(10));
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

  /** True against a Redis Cluster. */
  public boolean isCluster() {
    return clusterShared != null;
  }

  /**
   * The shared, pipelined connection's reactive commands: never send a blocking command here. On
   * a cluster, keyed commands go to their slot's master; keyless ones (PING, INFO) to one node:
   * use {@link #onEachMaster} for a figure of the whole cluster.
   */
  public RedisClusterReactiveCommands<String, byte[]> commands() {
    return clusterShared != null ? clusterShared.reactive() : shared.reactive();
  }

  /**
   * The same shared connection's async commands, for the per-message paths (XADD, XACK): a
   * reactive command allocates a publisher and a queue per call, the async one only a future.
   */
  public RedisClusterAsyncCommands<String, byte[]> async() {
    return clusterShared != null ? clusterShared.async() : shared.async();
  }

  public Duration commandTimeout() {
    return commandTimeout;
  }

  /** One master and the hash slots it serves, as {@code [first, last]} ranges. */
  public record Master(String nodeId, String host, int port, List<int[]> slotRanges) {
    public boolean serves(int slot) {
      for (int[] r : slotRanges) {
        if (slot >= r[0] && slot <= r[1]) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * The masters and their slot ranges, as the client knows the topology now. Standalone: the one
   * server, every slot, node id {@code ""}.
   */
  public List<Master> masters() {
    if (clusterShared == null) {
      return List.of(new Master("", uri.getHost(), uri.getPort(), List.<int[]>of(new int[] {0, SlotHash.SLOT_COUNT - 1})));
    }
    List<Master> out = new ArrayList<>();
    for (RedisClusterNode n : clusterShared.getPartitions()) {
      if (n.is(RedisClusterNode.NodeFlag.UPSTREAM) && !n.hasNoSlots() && !n.is(RedisClusterNode.NodeFlag.FAIL)) {
        out.add(new Master(n.getNodeId(), n.getUri().getHost(), n.getUri().getPort(), ranges(n.getSlots())));
      }
    }
    return out;
  }

  private static List<int[]> ranges(List<Integer> slots) {
    List<Integer> sorted = new ArrayList<>(slots);
    sorted.sort(null);
    List<int[]> out = new ArrayList<>();
    int[] cur = null;
    for (int s : sorted) {
      if (cur != null && s == cur[1] + 1) {
        cur[1] = s;
      } else {
        cur = new int[] {s, s};
        out.add(cur);
      }
    }
    return out;
  }

  /**
   * {@code command} on one given master (by its node id; standalone: the one server, any id),
   * e.g. {@code INFO commandstats} of one shard.
   */
  public <T> Flux<T> onMaster(String nodeId, Function<RedisClusterReactiveCommands<String, byte[]>, ? extends Publisher<T>> command) {
    if (clusterShared == null) {
      return Flux.defer(() -> command.apply(shared.reactive()));
    }
    return Mono.fromCompletionStage(() -> clusterShared.getConnectionAsync(nodeId))
        .flatMapMany(c -> command.apply(c.reactive()));
  }

  /** {@code command} on every master (standalone: the one server), their results merged. */
  public <T> Flux<T> onEachMaster(Function<RedisClusterReactiveCommands<String, byte[]>, ? extends Publisher<T>> command) {
    if (clusterShared == null) {
      return Flux.defer(() -> command.apply(shared.reactive()));
    }
    return Flux.defer(() -> Flux.fromIterable(masters())).flatMap(m -> onMaster(m.nodeId(), command));
  }

  /**
   * A new connection of its own for one blocking reader of {@code key}, with a command timeout
   * above its BLOCK time. Standalone: a new connection to the server. Cluster: a new connection
   * to the master that owns {@code key}'s slot, looked up in a topology read again (unless it was
   * read within the last second): a reader that lost its connection to a failover or a
   * resharding finds the slot's new owner. The caller closes it.
   */
  public Mono<BlockingConnection> dedicated(Duration block, String key) {
    return dedicated(block, key, true);
  }

  /**
   * As {@link #dedicated(Duration, String)}, for a connection that pipelines commands (many in
   * flight at once): it gets the shared connection's request queue size, where a reader's holds
   * {@link #READER_QUEUE_SIZE}.
   */
  public Mono<BlockingConnection> dedicatedPipelined(Duration block, String key) {
    return dedicated(block, key, false);
  }

  private Mono<BlockingConnection> dedicated(Duration block, String key, boolean reader) {
    Duration timeout = block.plus(commandTimeout);
    RedisClient client;
    try {
      client = reader ? readerClient() : this.client;
    } catch (IllegalStateException e) {
      return Mono.error(e);
    }
    if (clusterShared == null) {
      return Mono.fromCompletionStage(() -> client.connectAsync(CODEC, uri).toCompletableFuture())
          .doOnNext(c -> c.setTimeout(timeout))
          .map(c -> new Standalone(c, shared));
    }
    int slot = SlotHash.getSlot(key);
    return freshTopology()
        .then(Mono.fromCallable(() -> {
          RedisClusterNode owner = clusterShared.getPartitions().getMasterBySlot(slot);
          if (owner == null) {
            throw new io.lettuce.core.RedisConnectionException("no master serves slot " + slot + " (key " + key + ") yet");
          }
          // the shared connection's connection to it: for its CLIENT UNBLOCK and the slot's commands
          clusterShared.getConnectionAsync(owner.getUri().getHost(), owner.getUri().getPort(),
              io.lettuce.core.protocol.ConnectionIntent.WRITE);
          return nodeUri(owner.getUri());
        }))
        .flatMap(nodeUri -> Mono.fromCompletionStage(() -> client.connectAsync(CODEC, nodeUri).toCompletableFuture())
            .doOnNext(c -> c.setTimeout(timeout))
            .map(c -> (BlockingConnection) new ClusterNode(c, nodeUri.getHost(), nodeUri.getPort(), clusterShared)));
  }

  private synchronized RedisClient readerClient() {
    if (closed) {
      throw new IllegalStateException("Redis connections closed"); // no new client nobody would shut down
    }
    if (readerClient == null) {
      RedisClient c = RedisClient.create(client.getResources());
      c.setOptions(client.getOptions().mutate().requestQueueSize(READER_QUEUE_SIZE).build());
      readerClient = c;
    }
    return readerClient;
  }

  /** Completes once the topology was read within {@link #TOPOLOGY_FRESH}; concurrent callers share one refresh. */
  private Mono<Void> freshTopology() {
    return Mono.defer(() -> {
      CompletableFuture<Void> f;
      synchronized (refreshLock) {
        if (refreshing == null || refreshing.isDone()) {
          if (System.nanoTime() - refreshedAtNanos < TOPOLOGY_FRESH.toNanos()) {
            return Mono.empty();
          }
          refreshing = clusterClient.refreshPartitionsAsync().toCompletableFuture()
              .whenComplete((v, e) -> refreshedAtNanos = System.nanoTime());
        }
        f = refreshing;
      }
      // a failed refresh leaves the topology known so far: the connection may then fail, and is retried
      return Mono.fromCompletionStage(f).onErrorResume(e -> {
        log.debug("topology refresh failed: {}", e.toString());
        return Mono.empty();
      });
    });
  }

  /** {@code node} with the seed's credentials, TLS and client name. */
  private RedisURI nodeUri(RedisURI node) {
    RedisURI.Builder b = RedisURI.Builder.redis(node.getHost(), node.getPort())
        .withSsl(uri.isSsl())
        .withStartTls(uri.isStartTls())
        .withVerifyPeer(uri.getVerifyMode())
        .withTimeout(uri.getTimeout());
    if (uri.getCredentialsProvider() != null) {
      b.withAuthentication(uri);
    }
    if (uri.getClientName() != null) {
      b.withClientName(uri.getClientName());
    }
    return b.build();
  }

  /** Today's standalone reader connection: CLIENT UNBLOCK goes over the shared connection (same server). */
  private static final class Standalone implements BlockingConnection {
    private final StatefulRedisConnection<String, byte[]> conn;
    private final StatefulRedisConnection<String, byte[]> shared;
    private volatile Long id;

    Standalone(StatefulRedisConnection<String, byte[]> conn, StatefulRedisConnection<String, byte[]> shared) {
      this.conn = conn;
      this.shared = shared;
    }

    @Override
    public RedisClusterAsyncCommands<String, byte[]> async() {
      return conn.async();
    }

    @Override
    public Mono<Long> clientId() {
      Long known = id;
      return known != null ? Mono.just(known) : conn.reactive().clientId().doOnNext(v -> id = v);
    }

    @Override
    public void unblock() {
      Long known = id;
      if (known != null) {
        shared.reactive().clientUnblock(known, UnblockType.TIMEOUT).subscribe(v -> {}, e -> {});
      }
    }

    @Override
    public boolean isOpen() {
      return conn.isOpen();
    }

    @Override
    public CompletableFuture<Void> closeAsync() {
      return conn.closeAsync();
    }
  }

  /**
   * A reader connection to one cluster master: CLIENT UNBLOCK goes to that same node, over the
   * shared cluster connection's connection to it (a client id means nothing on another node).
   */
  private static final class ClusterNode implements BlockingConnection {
    private final StatefulRedisConnection<String, byte[]> conn;
    private final String host;
    private final int port;
    private final StatefulRedisClusterConnection<String, byte[]> shared;
    private volatile Long id;

    ClusterNode(StatefulRedisConnection<String, byte[]> conn, String host, int port,
        StatefulRedisClusterConnection<String, byte[]> shared) {
      this.conn = conn;
      this.host = host;
      this.port = port;
      this.shared = shared;
    }

    @Override
    public RedisClusterAsyncCommands<String, byte[]> async() {
      return conn.async();
    }

    @Override
    public Mono<Long> clientId() {
      Long known = id;
      return known != null ? Mono.just(known) : conn.reactive().clientId().doOnNext(v -> id = v);
    }

    @Override
    public void unblock() {
      Long known = id;
      if (known != null) {
        shared.getConnectionAsync(host, port, io.lettuce.core.protocol.ConnectionIntent.WRITE)
            .thenCompose(c -> c.async().clientUnblock(known, UnblockType.TIMEOUT))
            .whenComplete((v, e) -> {
              if (e != null) {
                log.debug("CLIENT UNBLOCK {} on {}:{} failed: {}", known, host, port, e.toString());
              }
            });
      }
    }

    @Override
    public boolean isOpen() {
      return conn.isOpen();
    }

    @Override
    public CompletableFuture<Void> closeAsync() {
      return conn.closeAsync();
    }

    @Override
    public String toString() {
      return "reader connection to " + host + ":" + port;
    }
  }

  /** Standalone: the server. Cluster: the first seed. */
  public RedisURI uri() {
    return uri;
  }

  @Override
  public void close() {
    if (topologyWatch != null) {
      topologyWatch.dispose();
    }
    if (clusterShared != null) {
      clusterShared.close();
    } else {
      shared.close();
    }
    RedisClient readers;
    synchronized (this) {
      closed = true;
      readers = readerClient;
      readerClient = null;
    }
    if (readers != null) {
      try {
        readers.shutdown(Duration.ZERO, Duration.ofSeconds(2)); // shared resources: only its connections
      } catch (RuntimeException e) {
        log.debug("closing the readers' client failed: {}", e.toString());
      }
    }
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        log.debug("closing Redis clients failed: {}", e.toString());
      }
    }
  }
}
