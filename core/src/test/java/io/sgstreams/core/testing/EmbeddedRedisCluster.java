package io.sgstreams.core.testing;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import redis.embedded.RedisExecProvider;

/**
 * A real Redis Cluster on loopback for tests: {@code masters} masters with {@code replicasPerMaster}
 * replicas each (default 3 + 3), every node the redis-server 7.0 binary bundled in {@code
 * org.signal:embedded-redis}, so tests of cluster behaviour (slot routing, MOVED, failover) need
 * neither Docker nor a Redis installation.
 *
 * <pre>{@code
 * try (EmbeddedRedisCluster cluster = EmbeddedRedisCluster.start()) {
 *   RedisClusterClient client = RedisClusterClient.create(cluster.seedUris().stream().map(RedisURI::create).toList());
 *   ...
 *   cluster.killMaster(0);                         // SIGKILL: a replica takes over its slots
 *   cluster.awaitHealthy(Duration.ofSeconds(30));
 * }
 * }</pre>
 *
 * <p>Why it does not use {@code redis.embedded.RedisCluster}: that one needs {@code redis-cli} (not
 * bundled) to create the cluster, and hides the processes, so a test cannot SIGKILL one master. Here
 * each node is a process of our own, started from a config file in its own temporary directory (the
 * {@code nodes.conf} a cluster node rewrites must not be shared), and the cluster is bootstrapped
 * with Lettuce the way {@code redis-cli --cluster create} does it: {@code CLUSTER SET-CONFIG-EPOCH}
 * and {@code CLUSTER ADDSLOTSRANGE} on each master, {@code CLUSTER MEET} between every two nodes,
 * {@code CLUSTER REPLICATE} once every node knows every other.
 *
 * <p>The settings favour speed over safety, because a test waits for them: {@code
 * cluster-node-timeout 1000} (a dead master is failed over within a few seconds), {@code
 * repl-diskless-sync-delay 0} (a replica syncs at once), nothing on disk ({@code appendonly no},
 * {@code save ""}).
 *
 * <p>Measured on a 2-core machine shared with other builds: {@code start()} of 3 + 3 takes about 2 s
 * once Lettuce is warm; the first cluster of a JVM adds Lettuce's cold first connection (1-4 s
 * depending on the load), which is why {@code start()} prints its phases. A SIGKILLed master is
 * replaced by its replica in about 2-2.5 s (from the kill to {@link #awaitHealthy(Duration)}).
 */
public final class EmbeddedRedisCluster implements AutoCloseable {
  /** The number of hash slots of every Redis Cluster. */
  public static final int SLOTS = 16384;
  /** Where every node listens: 127.0.0.1 (not ::1, whatever the JVM prefers). */
  private static final String HOST = "127.0.0.1";
  /** A node's cluster bus listens on its port plus this (fixed by Redis unless cluster-port is set). */
  private static final int BUS_OFFSET = 10000;
  /**
   * Ports are picked from [10000, 22767], so the bus port is in [20000, 32767]: both below Linux's
   * default ephemeral range (32768-60999), where the clients' own outgoing connections (Lettuce's
   * among them) could take a port between the moment it is found free and the moment Redis binds it.
   */
  private static final int MIN_PORT = 10000;
  private static final int MAX_PORT = 32767 - BUS_OFFSET;
  /** The config epoch of master i is FIRST_EPOCH + i: distinct, so no epoch collision has to be resolved first. */
  private static final int FIRST_EPOCH = 1;
  /** How often the bootstrap and {@link #awaitHealthy(Duration)} poll the nodes. */
  private static final long POLL_MILLIS = 50;

  /** One node as a test sees it: its cluster node id, its port and the pid of its redis-server process. */
  public record Node(String id, int port, long pid) {
    /** {@code redis://127.0.0.1:PORT} */
    public String uri() {
      return "redis://" + HOST + ":" + port;
    }
  }

  private final int masterCount;
  private final int replicasPerMaster;
  private final boolean requireFullCoverage;
  private final Duration startTimeout;
  private final Path baseDir;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final RedisClient client;
  private final Thread shutdownHook = new Thread(this::killAll, "embedded-redis-cluster-shutdown");
  private Duration startDuration;
  private boolean closed;

  private EmbeddedRedisCluster(Builder b, Path baseDir) {
    this.masterCount = b.masters;
    this.replicasPerMaster = b.replicasPerMaster;
    this.requireFullCoverage = b.requireFullCoverage;
    this.startTimeout = b.startTimeout;
    this.baseDir = baseDir;
    this.client = RedisClient.create();
    // a killed node must stay dead for its admin connection: no reconnect loop (and its log noise)
    this.client.setOptions(ClientOptions.builder().autoReconnect(false).build());
  }

  /** 3 masters, 1 replica each, started and healthy. */
  public static EmbeddedRedisCluster start() {
    return builder().start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The shape of the cluster; {@link #start()} starts it. */
  public static final class Builder {
    private int masters = 3;
    private int replicasPerMaster = 1;
    private boolean requireFullCoverage = true;
    private Duration startTimeout = Duration.ofSeconds(60);

    private Builder() {}

    /**
     * Default 3. At least 3 for a failover to happen: a replica is promoted only with the votes of a
     * majority of the masters, and the dead one does not vote.
     */
    public Builder masters(int masters) {
      if (masters < 1 || masters > SLOTS) {
        throw new IllegalArgumentException("masters must be in [1, " + SLOTS + "], got " + masters);
      }
      this.masters = masters;
      return this;
    }

    /** Default 1; 0 gives a cluster of masters only (no failover possible). */
    public Builder replicasPerMaster(int replicas) {
      if (replicas < 0) {
        throw new IllegalArgumentException("replicasPerMaster must not be negative, got " + replicas);
      }
      this.replicasPerMaster = replicas;
      return this;
    }

    /**
     * {@code cluster-require-full-coverage}; default {@code true} (Redis's default): with {@code false}
     * the nodes keep serving their slots while some slot has no live master.
     */
    public Builder requireFullCoverage(boolean require) {
      this.requireFullCoverage = require;
      return this;
    }

    /** How long {@link #start()} may take before it fails; default 60 s (a loaded CI machine). */
    public Builder startTimeout(Duration timeout) {
      this.startTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /**
     * Starts every node, bootstraps the cluster and returns once it is {@linkplain
     * #awaitHealthy(Duration) healthy}; prints how long that took.
     *
     * @throws UncheckedIOException when the temporary directories cannot be created
     * @throws IllegalStateException when a node does not start or the cluster does not become healthy
     */
    public EmbeddedRedisCluster start() {
      Path dir;
      try {
        dir = Files.createTempDirectory("sg-redis-cluster-").toAbsolutePath();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a directory for the embedded Redis Cluster", e);
      }
      EmbeddedRedisCluster cluster = new EmbeddedRedisCluster(this, dir);
      try {
        cluster.bootstrap();
      } catch (RuntimeException | Error e) {
        cluster.close();
        throw e;
      }
      return cluster;
    }
  }

  /** {@code redis-cluster://127.0.0.1:P1,127.0.0.1:P2,...}: every node, masters first. */
  public String url() {
    return nodes.stream().map(n -> HOST + ":" + n.port).collect(Collectors.joining(",", "redis-cluster://", ""));
  }

  /** {@code redis://127.0.0.1:P} of every node, masters first: the seeds for a cluster client. */
  public List<String> seedUris() {
    return nodes.stream().map(n -> n.node().uri()).toList();
  }

  /** How long {@link Builder#start()} took, from the first process started to the cluster healthy. */
  public Duration startDuration() {
    return startDuration;
  }

  /** Every node started, live or killed, in start order (masters first). */
  public List<Node> nodes() {
    return nodes.stream().map(NodeProcess::node).toList();
  }

  /**
   * The live nodes that are masters now (by their own {@code INFO replication}), in start order: after
   * a failover the promoted replica is in this list and the killed master is not.
   */
  public synchronized List<Node> masters() {
    return liveNodesWithRole("master");
  }

  /** The live nodes that are replicas now, in start order. */
  public synchronized List<Node> replicas() {
    return liveNodesWithRole("slave");
  }

  /**
   * SIGKILLs the i-th of {@link #masters()} (no shutdown, no failover handshake: a crash) and returns
   * it once its process is gone. The cluster notices after {@code cluster-node-timeout}; wait for the
   * failover with {@link #awaitHealthy(Duration)}.
   */
  public synchronized Node killMaster(int i) {
    List<Node> masters = masters();
    if (i < 0 || i >= masters.size()) {
      throw new IndexOutOfBoundsException("master " + i + " of " + masters.size());
    }
    Node master = masters.get(i);
    NodeProcess p = nodes.stream().filter(n -> n.port == master.port()).findFirst().orElseThrow();
    p.kill();
    return master;
  }

  /**
   * Waits until the cluster is healthy: every live node reports {@code cluster_state:ok}, every live
   * node's {@code CLUSTER NODES} gives each of the 16384 slots to the same live master (so a client
   * asking any node is routed the same way), and every live replica's link to its master is up.
   *
   * @throws IllegalStateException with what was still wrong when {@code timeout} passes
   */
  public synchronized void awaitHealthy(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String problem;
    while ((problem = healthProblem()) != null) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("Redis Cluster not healthy within " + timeout.toMillis() + " ms: " + problem);
      }
      sleep(POLL_MILLIS);
    }
  }

  /**
   * The live master serving {@code slot}, as the first live node sees it.
   *
   * @throws IllegalStateException when no live master serves it
   */
  public synchronized Node slotOwner(int slot) {
    if (slot < 0 || slot >= SLOTS) {
      throw new IllegalArgumentException("slot must be in [0, " + SLOTS + "), got " + slot);
    }
    NodeProcess viewer = liveNodes().stream().findFirst()
        .orElseThrow(() -> new IllegalStateException("no live node"));
    for (ClusterNodeLine line : ClusterNodeLine.parse(viewer.commands().clusterNodes())) {
      for (int[] range : line.slotRanges) {
        if (slot >= range[0] && slot <= range[1]) {
          return liveNodes().stream().filter(n -> n.id.equals(line.id)).findFirst().map(NodeProcess::node)
              .orElseThrow(() -> new IllegalStateException("slot " + slot + " is served by " + line.id
                  + " (" + line.flags + "), which is not a live node"));
        }
      }
    }
    throw new IllegalStateException("slot " + slot + " is served by no node");
  }

  /**
   * Who serves each of the 16384 slots, as the first live node sees it, from one {@code CLUSTER
   * NODES}: element {@code s} is the live master serving slot {@code s}, or null when no live node
   * does (the slot is unassigned, or its master was killed and not replaced).
   */
  public synchronized List<Node> slotOwners() {
    List<NodeProcess> live = liveNodes();
    if (live.isEmpty()) {
      throw new IllegalStateException("no live node");
    }
    Map<String, Node> liveById = new HashMap<>();
    live.forEach(n -> liveById.put(n.id, n.node()));
    Node[] owners = new Node[SLOTS];
    for (ClusterNodeLine line : ClusterNodeLine.parse(live.get(0).commands().clusterNodes())) {
      Node owner = liveById.get(line.id);
      for (int[] range : line.slotRanges) {
        Arrays.fill(owners, range[0], range[1] + 1, owner);
      }
    }
    return Collections.unmodifiableList(Arrays.asList(owners));
  }

  /**
   * Moves {@code slot} to master {@code to} the way {@code redis-cli --cluster reshard} does, while
   * clients keep using it: {@code CLUSTER SETSLOT … IMPORTING} on the target, {@code MIGRATING} on
   * the source, {@code MIGRATE} of its keys in batches (clients meanwhile get ASK / TRYAGAIN), then
   * {@code SETSLOT … NODE} on every live master. Returns the keys moved and how long it took.
   */
  public synchronized SlotMove moveSlot(int slot, Node to) {
    Node from = slotOwner(slot);
    if (from.port() == to.port()) {
      return new SlotMove(slot, from, to, 0, Duration.ZERO);
    }
    NodeProcess src = liveNodes().stream().filter(n -> n.port == from.port()).findFirst().orElseThrow();
    NodeProcess dst = liveNodes().stream().filter(n -> n.port == to.port()).findFirst().orElseThrow();
    long t0 = System.nanoTime();
    dst.commands().clusterSetSlotImporting(slot, src.id);
    src.commands().clusterSetSlotMigrating(slot, dst.id);
    int moved = 0;
    while (true) {
      List<String> keys = src.commands().clusterGetKeysInSlot(slot, 100);
      if (keys.isEmpty()) {
        break;
      }
      src.commands().migrate(HOST, to.port(), 0, 10_000, io.lettuce.core.MigrateArgs.Builder.keys(keys));
      moved += keys.size();
    }
    dst.commands().clusterSetSlotNode(slot, dst.id);
    src.commands().clusterSetSlotNode(slot, dst.id);
    for (NodeProcess n : liveNodes()) {
      if (n != src && n != dst && masters().stream().anyMatch(m -> m.port() == n.port)) {
        n.commands().clusterSetSlotNode(slot, dst.id);
      }
    }
    return new SlotMove(slot, from, to, moved, Duration.ofNanos(System.nanoTime() - t0));
  }

  /** What {@link #moveSlot} did. */
  public record SlotMove(int slot, Node from, Node to, int keys, Duration took) {}

  /** SIGKILLs every node, closes the admin connections and deletes the temporary directories. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      killAll();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException | IllegalArgumentException ignored) {
        // the JVM is shutting down (the hook runs) or the bootstrap failed before registering it
      }
      deleteRecursively(baseDir);
    }
  }

  @Override
  public String toString() {
    return "EmbeddedRedisCluster[" + masterCount + " masters x " + replicasPerMaster + " replicas, " + url() + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // bootstrap

  private void bootstrap() {
    long t0 = System.nanoTime();
    long deadline = t0 + startTimeout.toNanos();
    File executable = redisServerExecutable();
    long extracted = System.nanoTime();
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    int total = masterCount * (1 + replicasPerMaster);
    Set<Integer> taken = new HashSet<>();
    // launch all first, then wait: the processes start in parallel
    for (int i = 0; i < total; i++) {
      int port = freePortPair(taken);
      taken.add(port);
      NodeProcess node = new NodeProcess(i, port, baseDir.resolve("node-" + port));
      nodes.add(node);
      node.launch(executable, requireFullCoverage);
    }
    for (NodeProcess node : nodes) {
      for (int attempt = 1; ; attempt++) {
        try {
          node.connect(client, deadline);
          break;
        } catch (PortTakenException e) {
          // another process bound the port (or its bus port) after freePortPair found it free: try another
          if (attempt >= 3) {
            throw new IllegalStateException(e.getMessage(), e);
          }
          int port = freePortPair(taken);
          taken.add(port);
          node.relaunch(port, baseDir.resolve("node-" + port), executable, requireFullCoverage);
        }
      }
    }

    long connected = System.nanoTime();
    List<NodeProcess> masters = nodes.subList(0, masterCount);
    for (int i = 0; i < masterCount; i++) {
      RedisCommands<String, String> c = masters.get(i).commands();
      c.clusterSetConfigEpoch(FIRST_EPOCH + i);
      int from = (int) ((long) SLOTS * i / masterCount);
      int to = (int) ((long) SLOTS * (i + 1) / masterCount) - 1;
      c.clusterAddSlotsRange(Range.create(from, to));
    }
    // every node meets every earlier one, not only the first (as redis-cli does): no node has to wait
    // for gossip to hear of the others, which took up to ~3 s on a loaded machine; n(n-1)/2 commands
    for (int j = 1; j < nodes.size(); j++) {
      for (int i = 0; i < j; i++) {
        nodes.get(j).commands().clusterMeet(HOST, nodes.get(i).port);
      }
    }
    awaitAllKnown(deadline);
    long known = System.nanoTime();

    for (int r = 0; r < replicasPerMaster; r++) {
      for (int m = 0; m < masterCount; m++) {
        NodeProcess replica = nodes.get(masterCount + r * masterCount + m);
        replica.commands().clusterReplicate(masters.get(m).id);
      }
    }

    // healthy, not just cluster_state:ok: the replicas synced, and every node sees them as replicas of
    // the right master (a client that loads the topology from any node must get the same one)
    String problem;
    while ((problem = healthProblem()) != null) {
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("embedded Redis Cluster not healthy within "
            + startTimeout.toMillis() + " ms: " + problem);
      }
      sleep(POLL_MILLIS);
    }
    startDuration = Duration.ofNanos(System.nanoTime() - t0);
    System.out.printf("EmbeddedRedisCluster: %d masters + %d replicas healthy in %d ms (binary %d ms,"
            + " processes up and connected %d ms (the first Lettuce connection of a JVM is the slow part),"
            + " all nodes known %d ms, healthy %d ms) %s%n",
        masterCount, masterCount * replicasPerMaster, startDuration.toMillis(), (extracted - t0) / 1_000_000,
        (connected - extracted) / 1_000_000,
        (known - connected) / 1_000_000, (System.nanoTime() - known) / 1_000_000, url());
  }

  /**
   * Waits until every node lists every other under its real id, out of the handshake: only then does
   * {@code CLUSTER REPLICATE <master-id>} find the master (and {@code cluster_known_nodes} alone is
   * not enough, since a node in handshake is counted under a random id).
   */
  private void awaitAllKnown(long deadline) {
    Set<String> ids = nodes.stream().map(n -> n.id).collect(Collectors.toSet());
    for (NodeProcess node : nodes) {
      while (true) {
        List<ClusterNodeLine> lines = ClusterNodeLine.parse(node.commands().clusterNodes());
        Set<String> known = lines.stream()
            .filter(l -> !l.flags.contains("handshake") && !l.flags.contains("noaddr"))
            .map(l -> l.id).collect(Collectors.toSet());
        if (known.equals(ids)) {
          break;
        }
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("node " + node.port + " knows " + known.size() + " of " + ids.size()
              + " nodes after CLUSTER MEET within " + startTimeout.toMillis() + " ms");
        }
        sleep(POLL_MILLIS);
      }
    }
  }

  /** What keeps the cluster from being healthy, or null when it is. */
  private String healthProblem() {
    List<NodeProcess> live = liveNodes();
    if (live.isEmpty()) {
      return "no live node";
    }
    Map<String, NodeProcess> liveById = new HashMap<>();
    live.forEach(n -> liveById.put(n.id, n));
    String reference = null;
    for (NodeProcess node : live) {
      try {
        RedisCommands<String, String> c = node.commands();
        String state = infoField(c.clusterInfo(), "cluster_state");
        if (!"ok".equals(state)) {
          return "node " + node.port + ": cluster_state:" + state;
        }
        String replication = c.info("replication");
        if ("slave".equals(infoField(replication, "role"))
            && !"up".equals(infoField(replication, "master_link_status"))) {
          return "replica " + node.port + ": master_link_status:" + infoField(replication, "master_link_status");
        }
        // who serves which slots, as this node sees it; every live node must see the same
        TreeMap<Integer, String> owners = new TreeMap<>();
        int covered = 0;
        List<ClusterNodeLine> lines = ClusterNodeLine.parse(c.clusterNodes());
        for (ClusterNodeLine line : lines) {
          for (int[] range : line.slotRanges) {
            if (!line.flags.contains("master") || line.flags.contains("fail") || !liveById.containsKey(line.id)) {
              return "node " + node.port + " sees slots " + range[0] + "-" + range[1] + " served by " + line.id
                  + " (" + line.flags + "), not a live master";
            }
            owners.put(range[0], range[1] + "@" + line.id);
            covered += range[1] - range[0] + 1;
          }
          // a replica of a live master must be seen as such by everyone (replica views propagate by gossip)
          if (liveById.containsKey(line.id) && line.flags.contains("slave") && !liveById.containsKey(line.masterId)) {
            return "node " + node.port + " sees replica " + line.id + " following " + line.masterId
                + ", not a live master";
          }
        }
        if (covered != SLOTS) {
          return "node " + node.port + " sees " + covered + " of " + SLOTS + " slots served";
        }
        String view = owners.toString();
        if (reference == null) {
          reference = view;
        } else if (!reference.equals(view)) {
          return "node " + node.port + " sees another slot map than node " + live.get(0).port;
        }
        long liveReplicasSeen = lines.stream()
            .filter(l -> liveById.containsKey(l.id) && l.flags.contains("slave")).count();
        long liveReplicas = live.stream().filter(n -> "slave".equals(n.role())).count();
        if (liveReplicasSeen != liveReplicas) {
          return "node " + node.port + " sees " + liveReplicasSeen + " of " + liveReplicas + " live replicas";
        }
      } catch (RuntimeException e) {
        return "node " + node.port + ": " + e;
      }
    }
    return null;
  }

  private List<NodeProcess> liveNodes() {
    return nodes.stream().filter(NodeProcess::isLive).toList();
  }

  private List<Node> liveNodesWithRole(String role) {
    return liveNodes().stream().filter(n -> role.equals(n.role())).map(NodeProcess::node).toList();
  }

  private void killAll() {
    for (NodeProcess node : nodes) {
      node.kill();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // one node

  /** A redis-server process of this cluster and the connection that administers it. */
  private static final class NodeProcess {
    private final int index;
    private int port;
    private Path dir;
    private Process process;
    private StatefulRedisConnection<String, String> connection;
    private String id;
    private long pid;
    private volatile boolean killed;

    NodeProcess(int index, int port, Path dir) {
      this.index = index;
      this.port = port;
      this.dir = dir;
    }

    void launch(File executable, boolean requireFullCoverage) {
      try {
        Files.createDirectories(dir);
        Path conf = dir.resolve("redis.conf");
        Files.writeString(conf, String.join("\n",
            "port " + port,
            "bind " + HOST,
            "protected-mode no",
            "daemonize no",
            "dir " + quoted(dir.toString()),
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",
            "cluster-node-timeout 1000",
            "cluster-require-full-coverage " + (requireFullCoverage ? "yes" : "no"),
            "repl-diskless-sync yes",
            "repl-diskless-sync-delay 0",
            "appendonly no",
            "save \"\"",
            ""), StandardCharsets.UTF_8);
        process = new ProcessBuilder(executable.getAbsolutePath(), conf.toString())
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
        pid = process.pid();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start redis-server on port " + port + ": " + e.getMessage(), e);
      }
    }

    /** Starts the node again on another port, in another directory, after it could not bind its first one. */
    void relaunch(int newPort, Path newDir, File executable, boolean requireFullCoverage) {
      process.destroyForcibly();
      port = newPort;
      dir = newDir;
      launch(executable, requireFullCoverage);
    }

    /** Connects once the process accepts connections; reads the node id and the pid from the server itself. */
    void connect(RedisClient client, long deadline) {
      RedisURI uri = RedisURI.builder().withHost(HOST).withPort(port).withTimeout(Duration.ofSeconds(5)).build();
      while (connection == null) {
        if (!process.isAlive()) {
          String log = logTail();
          if (log.contains("Address already in use")) {
            throw new PortTakenException("redis-server could not bind port " + port + " or " + (port + BUS_OFFSET)
                + ": " + log);
          }
          throw new IllegalStateException("redis-server on port " + port + " exited with " + process.exitValue()
              + ": " + log);
        }
        // probe with a plain socket first: a refused Lettuce connect costs far more (exception, log line)
        if (isOpen(port)) {
          try {
            connection = client.connect(uri);
            break;
          } catch (RuntimeException e) {
            if (System.nanoTime() - deadline > 0) {
              throw new IllegalStateException("redis-server on port " + port + " did not accept connections: "
                  + e.getMessage() + "; " + logTail(), e);
            }
          }
        } else if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("redis-server on port " + port + " did not open its port; " + logTail());
        }
        sleep(10);
      }
      id = connection.sync().clusterMyId();
      pid = Long.parseLong(infoField(connection.sync().info("server"), "process_id"));
    }

    RedisCommands<String, String> commands() {
      return connection.sync();
    }

    boolean isLive() {
      return !killed && process != null && process.isAlive() && connection != null;
    }

    String role() {
      return infoField(commands().info("replication"), "role");
    }

    Node node() {
      return new Node(id, port, pid);
    }

    /** SIGKILL, then waits until the process is gone (so its port is closed when this returns). */
    void kill() {
      killed = true;
      if (connection != null) {
        connection.closeAsync();
      }
      if (process == null) {
        return;
      }
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private String logTail() {
      try {
        List<String> lines = Files.readAllLines(dir.resolve("redis.log"), StandardCharsets.UTF_8);
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
      } catch (IOException e) {
        return "(no log: " + e.getMessage() + ")";
      }
    }

    @Override
    public String toString() {
      return "node " + index + " on " + port;
    }
  }

  /** A node exited at start because its port or its bus port was taken meanwhile. */
  private static final class PortTakenException extends RuntimeException {
    PortTakenException(String message) {
      super(message);
    }
  }

  /** One line of {@code CLUSTER NODES}: {@code <id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>...} */
  private record ClusterNodeLine(String id, String flags, String masterId, List<int[]> slotRanges) {
    static List<ClusterNodeLine> parse(String clusterNodes) {
      List<ClusterNodeLine> result = new ArrayList<>();
      for (String line : clusterNodes.split("\n")) {
        String[] f = line.trim().split(" ");
        if (f.length < 8) {
          continue;
        }
        List<int[]> ranges = new ArrayList<>();
        for (int i = 8; i < f.length; i++) {
          if (f[i].startsWith("[")) {
            continue; // a slot being imported or migrated, still served by its owner
          }
          int dash = f[i].indexOf('-');
          int from = Integer.parseInt(dash < 0 ? f[i] : f[i].substring(0, dash));
          int to = dash < 0 ? from : Integer.parseInt(f[i].substring(dash + 1));
          ranges.add(new int[] {from, to});
        }
        result.add(new ClusterNodeLine(f[0], f[2], f[3], Collections.unmodifiableList(ranges)));
      }
      return result;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  /** The bundled redis-server for this OS and architecture, extracted once per JVM by embedded-redis. */
  private static synchronized File redisServerExecutable() {
    if (executable == null) {
      try {
        executable = RedisExecProvider.defaultProvider().get();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot extract the embedded redis-server: " + e.getMessage(), e);
      }
    }
    return executable;
  }

  private static File executable;

  /** A port in [MIN_PORT, MAX_PORT] that is free on loopback, whose bus port (+10000) is free too. */
  private static int freePortPair(Set<Integer> taken) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = random.nextInt(MIN_PORT, MAX_PORT + 1);
      if (!taken.contains(port) && isFree(port) && isFree(port + BUS_OFFSET)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port pair (p, p+" + BUS_OFFSET + ") in [" + MIN_PORT + ", " + MAX_PORT + "]");
  }

  private static boolean isOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(HOST, port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByAddress(new byte[] {127, 0, 0, 1}))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** The value of {@code field} in an {@code INFO} or {@code CLUSTER INFO} reply, or null. */
  static String infoField(String info, String field) {
    String prefix = field + ":";
    for (String line : info.split("\r?\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).trim();
      }
    }
    return null;
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the embedded Redis Cluster", e);
    }
  }

  /** A redis.conf argument in double quotes, so a directory with spaces stays one argument. */
  private static String quoted(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory: best effort
    }
  }
}
