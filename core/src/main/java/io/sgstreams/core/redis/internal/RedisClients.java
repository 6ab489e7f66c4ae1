package io.sgstreams.core.redis.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions.RefreshTrigger;
import io.lettuce.core.cluster.RedisClusterClient;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lettuce clients of one process for one Redis URL, standalone or cluster (see {@link
 * RedisUrl}). Decides the mode once, at the first {@link #open}: a URL that names a cluster is
 * one; a single-host URL is one when the server answers {@code INFO cluster} with {@code
 * cluster_enabled:1}. A standalone server keeps the plain {@link RedisClient} of {@link
 * RedisStreams#newClient()}; a cluster gets a {@link RedisClusterClient} on the same client
 * resources (event loops, flush consolidation), and the plain client stays for the blocking
 * readers' connections to single masters.
 */
public final class RedisClients implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RedisClients.class);
  /** Topology read again this often in any case. */
  static final Duration PERIODIC_REFRESH = Duration.ofSeconds(30);
  /** Adaptive refreshes (MOVED, reconnects, ...) at most this often. */
  static final Duration ADAPTIVE_REFRESH_TIMEOUT = Duration.ofSeconds(2);
  static final int MAX_REDIRECTS = 5;

  private final RedisUrl url;
  /** Standalone: every connection. Cluster: the blocking readers' connections to one master. */
  private final RedisClient client;
  private RedisClusterClient clusterClient;
  /** null until decided. */
  private Boolean cluster;

  private RedisClients(RedisUrl url, RedisClient client) {
    this.url = url;
    this.client = client;
  }

  /** Clients for {@code url}; nothing is connected yet. */
  public static RedisClients create(String url) {
    return new RedisClients(RedisUrl.parse(url), RedisStreams.newClient());
  }

  public RedisUrl url() {
    return url;
  }

  /**
   * A {@link RedisStreams} on these clients (not closed with it). The first call decides the mode,
   * and on a single-host URL connects to ask the server.
   */
  public synchronized RedisStreams open(Duration commandTimeout) {
    if (cluster == null) {
      if (url.cluster()) {
        cluster = true;
      } else {
        RedisURI uri = url.single();
        StatefulRedisConnection<String, byte[]> probe = client.connect(RedisStreams.CODEC, uri);
        if (!clusterEnabled(probe, commandTimeout)) {
          cluster = false;
          // the probe becomes the shared connection: one connection, as before
          return RedisStreams.standalone(this, client, uri, probe, commandTimeout);
        }
        probe.closeAsync();
        cluster = true;
        log.info("{} is a Redis Cluster node: cluster mode", url);
      }
    }
    if (!cluster) {
      return RedisStreams.standalone(this, client, url.single(), null, commandTimeout);
    }
    if (clusterClient == null) {
      clusterClient = newClusterClient(client, url.seeds());
      // the plain client now opens only connections of their own to one master (blocking readers,
      // replicated writes): when that master dies they must fail at once, not reconnect to it; their
      // owners reconnect with backoff to whichever master then owns the slot
      client.setOptions(ClientOptions.builder()
          .autoReconnect(false)
          .timeoutOptions(RedisStreams.defaultOptions().getTimeoutOptions())
          .socketOptions(RedisStreams.defaultOptions().getSocketOptions())
          .build());
    }
    return RedisStreams.cluster(this, clusterClient, client, url.seeds().get(0), commandTimeout);
  }

  /** True once {@link #open} found a cluster. */
  public synchronized boolean isCluster() {
    return Boolean.TRUE.equals(cluster);
  }

  static boolean clusterEnabled(StatefulRedisConnection<String, byte[]> c, Duration timeout) {
    try {
      String info = c.async().info("cluster").get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return info != null && info.lines().anyMatch(l -> l.trim().equals("cluster_enabled:1"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      // INFO refused (ACL) or failed: take it for what the URL says, a standalone server
      log.debug("INFO cluster failed; taking {} for a standalone server: {}", RedisUrl.mask(String.valueOf(c)), e.toString());
      return false;
    }
  }

  /** A cluster client sharing {@code plain}'s resources (event loops, flush consolidation). */
  static RedisClusterClient newClusterClient(RedisClient plain, List<RedisURI> seeds) {
    RedisClusterClient c = RedisClusterClient.create(plain.getResources(), seeds);
    c.setOptions(clusterOptions());
    return c;
  }

  /**
   * {@link RedisStreams#defaultOptions()} for a cluster, plus: the topology read every 30 s and
   * at once (at most every 2 s) on a redirection, an unknown node, an uncovered slot or a
   * connection that keeps failing; commands rejected at once while their node's connection is
   * down (queued ones would wait out their timeout after a failover, the slot having moved).
   */
  public static ClusterClientOptions clusterOptions() {
    ClientOptions base = RedisStreams.defaultOptions();
    return ClusterClientOptions.builder()
        .autoReconnect(base.isAutoReconnect())
        .requestQueueSize(base.getRequestQueueSize())
        .timeoutOptions(base.getTimeoutOptions())
        .socketOptions(base.getSocketOptions())
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .maxRedirects(MAX_REDIRECTS)
        .validateClusterNodeMembership(false)
        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
            .enablePeriodicRefresh(PERIODIC_REFRESH)
            .enableAdaptiveRefreshTrigger(RefreshTrigger.MOVED_REDIRECT, RefreshTrigger.ASK_REDIRECT,
                RefreshTrigger.PERSISTENT_RECONNECTS, RefreshTrigger.UNKNOWN_NODE, RefreshTrigger.UNCOVERED_SLOT)
            .adaptiveRefreshTriggersTimeout(ADAPTIVE_REFRESH_TIMEOUT)
            .build())
        .build();
  }

  @Override
  public synchronized void close() {
    if (clusterClient != null) {
      clusterClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    // the plain client owns the resources: last
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
