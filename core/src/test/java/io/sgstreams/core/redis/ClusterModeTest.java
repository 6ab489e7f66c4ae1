package io.sgstreams.core.redis;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.cluster.SlotHash;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.consume.StreamTail;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.testing.EmbeddedRedisCluster;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import reactor.core.Disposable;

/**
 * Core against a real 3 + 3 Redis Cluster (one per class): publishing to streams on different
 * masters, a consumer group reading them with blocking reads, a claim that must unblock a reader
 * blocked on another master, a tail, and a failover of one stream's master (last: it kills one).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterModeTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static EmbeddedRedisCluster cluster;
  /** Three stream names (under a namespace) whose slots are on three different masters. */
  private static List<String> streams;
  private static String ns;

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<StreamReceiver> receivers = new ArrayList<>();
  private final List<Disposable> subscriptions = new ArrayList<>();

  @BeforeAll
  static void startCluster() {
    cluster = EmbeddedRedisCluster.start();
    ns = TestRedis.namespace();
    Map<Integer, String> byOwner = new LinkedHashMap<>();
    for (char c = 'a'; byOwner.size() < 3 && c <= 'z'; c++) {
      String s = ns + ":t:{" + c + "}";
      byOwner.putIfAbsent(cluster.slotOwner(SlotHash.getSlot(s)).port(), s);
    }
    streams = List.copyOf(byOwner.values());
    assertEquals(3, streams.size(), "streams on three masters: " + byOwner);
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    subscriptions.forEach(Disposable::dispose);
    for (StreamReceiver r : receivers) {
      r.close().block(Duration.ofSeconds(10));
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisEventBus bus(String url, String node) {
    SgConfig config = TestRedis.config(node);
    RedisEventBus b = TestRedis.bus(url, Role.WORKER, config);
    closeables.add(b);
    return b;
  }

  private StreamReceiver receiver(RedisEventBus b, ReceiverOptions o) {
    StreamReceiver r = StreamReceiver.create(b, o);
    receivers.add(r);
    return r;
  }

  private static InboundEnvelope env(String text) {
    return InboundEnvelope.create("web", "c", "u", text);
  }

  private static String text(Delivery d) {
    return ((InboundEnvelope) d.envelope()).content();
  }

  @Test
  @Order(1)
  void aSingleHostUrlOfAClusterNodeSwitchesToClusterMode() {
    String single = cluster.nodes().get(0).uri();
    try (RedisStreams r = RedisStreams.connect(single)) {
      assertTrue(r.isCluster());
      assertEquals(3, r.masters().size(), "masters " + r.masters());
      for (String s : streams) { // keys on every master, through the one URL
        r.commands().set(s + ":k", s.getBytes(StandardCharsets.UTF_8)).block(WAIT);
        assertEquals(s, new String(r.commands().get(s + ":k").block(WAIT), StandardCharsets.UTF_8));
        r.commands().del(s + ":k").block(WAIT);
      }
      int total = r.masters().stream().mapToInt(m -> m.slotRanges().stream().mapToInt(x -> x[1] - x[0] + 1).sum()).sum();
      assertEquals(16384, total);
      // a command on one given master: INFO of each shard
      for (RedisStreams.Master m : r.masters()) {
        String info = r.onMaster(m.nodeId(), c -> c.info("server")).blockLast(WAIT);
        assertTrue(info.contains("tcp_port:" + m.port()), info);
      }
    }
    try (Redis redis = Redis.connect(single); RedisStreams r = redis.open()) {
      assertTrue(r.isCluster());
      assertTrue(redis.isCluster());
    }
  }

  @Test
  @Order(2)
  void publishConsumeAndAcknowledgeAcrossMasters() {
    RedisEventBus b = bus(cluster.url(), "cl-rw");
    assertTrue(b.connections().isCluster());
    String group = "g-rw";
    streams.forEach(s -> b.ensureGroup(s, group).block(WAIT));
    Set<String> got = ConcurrentHashMap.newKeySet();
    for (String s : streams) { // one receiver per stream, each blocking on its stream's master
      StreamReceiver rx = receiver(b, ReceiverOptions.of(s, group, "w-rw", b.config().consumer())
          .withReadBlock(Duration.ofSeconds(2)));
      subscriptions.add(rx.receive().concatMap(d -> d.ack().thenReturn(d))
          .subscribe(d -> got.add(d.stream() + "/" + text(d)), Throwable::printStackTrace));
    }

    Set<String> sent = new HashSet<>();
    for (int i = 0; i < 30; i++) {
      String s = streams.get(i % 3);
      b.publish(s, env("m" + i)).block(WAIT);
      sent.add(s + "/m" + i);
    }
    try {
      await().atMost(WAIT).until(() -> got.containsAll(sent));
    } catch (RuntimeException e) {
      throw new AssertionError("got " + got.size() + " of " + sent.size() + ": " + got, e);
    }
    for (String s : streams) {
      await().atMost(WAIT).until(() -> b.pendingCount(s, group).block(WAIT) == 0L);
      assertEquals(10L, b.streamInfo(s).block(WAIT).length());
    }
    // every master scanned, every master's CPU counted
    Set<String> scanned = new HashSet<>(b.scanStreams(ns + ":t:", 100).collectList().block(WAIT));
    assertTrue(scanned.containsAll(streams), "scan found " + scanned);
    assertTrue(b.serverCpuSeconds().block(WAIT) > 0);
    assertTrue(b.ping().block(WAIT));
  }

  @Test
  @Order(3)
  void aClaimUnblocksAReaderBlockedOnItsStreamsMaster() {
    RedisEventBus b = bus(cluster.url(), "cl-claim");
    String group = "g-claim";
    for (String s : streams) {
      b.ensureGroup(s, group).block(WAIT);
      for (int i = 0; i < 5; i++) {
        b.publish(s, env(s + "-" + i)).block(WAIT);
      }
      // a consumer takes the five and dies without acknowledging them
      StreamReceiver doomed = StreamReceiver.create(b, ReceiverOptions.of(s, group, "w-doomed", b.config().consumer())
          .withMaxInFlight(5).withReadCount(5));
      assertEquals(5, doomed.receive().take(5).collectList().block(WAIT).size());
      doomed.close().block(WAIT);

      // the survivor's blocking read (60 s) holds all its slots: the claim can only start once the
      // read is unblocked, and CLIENT UNBLOCK works only on the node the read is blocked on
      StreamReceiver survivor = receiver(b, ReceiverOptions.of(s, group, "w-survivor", b.config().consumer())
          .withMaxInFlight(5).withReadCount(5).withReadBlock(Duration.ofSeconds(60))
          .withClaim(Duration.ofMillis(500), Duration.ofMillis(100)));
      List<Delivery> claimed = new CopyOnWriteArrayList<>();
      long t0 = System.nanoTime();
      List<Delivery> seen = new CopyOnWriteArrayList<>();
      String mine = s + "-";
      subscriptions.add(survivor.receive().doOnNext(seen::add).concatMap(d -> d.ack().thenReturn(d))
          .filter(d -> text(d).startsWith(mine))
          .subscribe(claimed::add, Throwable::printStackTrace));
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> claimed.size() == 5);
      } catch (RuntimeException e) {
        throw new AssertionError("seen " + seen.size() + ", acked " + claimed.size() + " on " + s, e);
      }
      System.out.printf("claim on %s (master %d) after %d ms%n", s,
          cluster.slotOwner(SlotHash.getSlot(s)).port(), (System.nanoTime() - t0) / 1_000_000);
    }
  }

  @Test
  @Order(4)
  void aTailFollowsAStreamOnAnotherMaster() {
    RedisEventBus b = bus(cluster.url(), "cl-tail");
    for (String s : streams) {
      List<String> seen = new CopyOnWriteArrayList<>();
      StreamTail tail = StreamTail.of(b, s, e -> seen.add(e.id()));
      tail.start().block(WAIT);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        ids.add(b.publish(s, env("tail-" + i)).block(WAIT));
      }
      await().atMost(WAIT).until(() -> seen.size() >= 10);
      assertEquals(ids, seen);
      tail.stop().block(WAIT);
    }
  }

  @Test
  @Order(5)
  void publishAndReadsOfAStreamResumeAfterItsMasterDies() {
    RedisEventBus b = bus(cluster.url(), "cl-failover");
    String group = "g-failover";
    streams.forEach(s -> b.ensureGroup(s, group).block(WAIT));
    String victim = streams.get(1);
    Map<String, Long> got = new ConcurrentHashMap<>();
    for (String s : streams) {
      StreamReceiver rx = receiver(b, ReceiverOptions.of(s, group, "w-fo", b.config().consumer())
          .withReadBlock(Duration.ofSeconds(2)));
      subscriptions.add(rx.receive().concatMap(d -> d.ack().thenReturn(d))
          .subscribe(d -> got.putIfAbsent(d.stream() + "/" + text(d), System.nanoTime()), Throwable::printStackTrace));
    }
    Map<String, Long> tailed = new ConcurrentHashMap<>();
    StreamTail tail = StreamTail.of(b, victim, (StreamEntry e) -> tailed.putIfAbsent(e.id(), System.nanoTime()));
    tail.start().block(WAIT);

    // warm: every stream read before the kill
    for (String s : streams) {
      b.publish(s, env("before")).block(WAIT);
    }
    await().atMost(WAIT).until(() -> streams.stream().allMatch(s -> got.containsKey(s + "/before")));

    int port = cluster.slotOwner(SlotHash.getSlot(victim)).port();
    int index = cluster.masters().stream().map(EmbeddedRedisCluster.Node::port).toList().indexOf(port);
    long killedAt = System.nanoTime();
    cluster.killMaster(index);

    // publish to the victim until it works again, then more; every entry published after the kill must be read
    Set<String> sent = new HashSet<>();
    List<String> sentIds = new ArrayList<>();
    long firstOk = -1;
    int n = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (sent.size() < 20) {
      assertTrue(System.nanoTime() < deadline, "publishing to " + victim + " did not resume within 60 s");
      String text = "after-" + n++;
      try {
        sentIds.add(b.publish(victim, env(text)).block(WAIT));
        sent.add(victim + "/" + text);
        if (firstOk < 0) {
          firstOk = System.nanoTime();
        }
      } catch (RuntimeException e) {
        sleep(200);
      }
    }
    int refusedAfter = 0;
    // the other masters' streams go on too. With cluster-require-full-coverage yes (Redis's default)
    // every master answers CLUSTERDOWN until it has heard of the promotion, which can be a moment after
    // the promoted replica itself accepts writes: a refusal is a clear error, and a retry succeeds
    for (String s : streams) {
      if (!s.equals(victim)) {
        while (true) {
          assertTrue(System.nanoTime() < deadline, "publishing to " + s + " did not resume within 60 s");
          try {
            b.publish(s, env("after")).block(WAIT);
            break;
          } catch (RuntimeException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("CLUSTERDOWN"), () -> "unexpected refusal: " + e);
            refusedAfter++;
            sleep(200);
          }
        }
        sent.add(s + "/after");
      }
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> got.keySet().containsAll(sent));
    await().atMost(Duration.ofSeconds(60)).until(() -> tailed.keySet().containsAll(sentIds));
    long firstRead = sent.stream().filter(k -> k.startsWith(victim)).mapToLong(got::get).min().orElseThrow();
    long firstTailed = sentIds.stream().mapToLong(tailed::get).min().orElseThrow();
    System.out.printf("failover of %d: publish resumed after %d ms, group read after %d ms, tail after %d ms (from the kill);"
        + " other masters refused %d publishes with CLUSTERDOWN after the victim's stream resumed%n",
        port, (firstOk - killedAt) / 1_000_000, (firstRead - killedAt) / 1_000_000, (firstTailed - killedAt) / 1_000_000,
        refusedAfter);
    assertNotEquals(port, cluster.slotOwner(SlotHash.getSlot(victim)).port());
    assertFalse(sent.isEmpty());
    tail.stop().block(WAIT);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
