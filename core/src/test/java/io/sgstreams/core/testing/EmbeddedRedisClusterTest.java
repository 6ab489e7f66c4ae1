package io.sgstreams.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Starts a real 3 + 3 cluster (a few seconds): the fixture must give what a cluster test relies on,
 * every slot served, routing through a real cluster client, and a real failover after a crash.
 */
class EmbeddedRedisClusterTest {

  @Test
  void servesEverySlotAndFailsOverAKilledMasterWithoutLosingAReplicatedWrite() {
    List<Integer> ports;
    try (EmbeddedRedisCluster cluster = EmbeddedRedisCluster.start()) {
      System.out.println("start: " + cluster.startDuration().toMillis() + " ms");
      assertEquals(3, cluster.masters().size(), "masters");
      assertEquals(3, cluster.replicas().size(), "replicas");
      ports = cluster.nodes().stream().map(EmbeddedRedisCluster.Node::port).toList();
      assertEquals(6, new HashSet<>(ports).size(), "six distinct ports");
      assertTrue(cluster.url().startsWith("redis-cluster://127.0.0.1:" + ports.get(0) + ","), cluster.url());
      assertEquals(6, cluster.url().split(",").length, cluster.url());
      for (EmbeddedRedisCluster.Node node : cluster.nodes()) {
        assertTrue(node.pid() > 0 && ProcessHandle.of(node.pid()).map(ProcessHandle::isAlive).orElse(false),
            "pid " + node.pid() + " of " + node.port() + " is a live process");
        assertEquals(40, node.id().length(), "node id " + node.id());
      }

      RedisClusterClient client = RedisClusterClient.create(
          cluster.seedUris().stream().map(RedisURI::create).toList());
      try (StatefulRedisClusterConnection<String, String> conn = client.connect()) {
        RedisAdvancedClusterCommands<String, String> redis = conn.sync();
        assertEquals("ok", EmbeddedRedisCluster.infoField(redis.clusterInfo(), "cluster_state"));
        assertEquals("16384", EmbeddedRedisCluster.infoField(redis.clusterInfo(), "cluster_slots_assigned"));

        // every slot served, by a master of ours, and the three masters split them evenly
        Set<Integer> masterPorts = new HashSet<>();
        cluster.masters().forEach(m -> masterPorts.add(m.port()));
        int[] perMaster = new int[65536];
        List<EmbeddedRedisCluster.Node> owners = cluster.slotOwners();
        assertEquals(EmbeddedRedisCluster.SLOTS, owners.size());
        for (int slot = 0; slot < EmbeddedRedisCluster.SLOTS; slot++) {
          EmbeddedRedisCluster.Node owner = owners.get(slot);
          assertTrue(owner != null, "slot " + slot + " served");
          if (slot % 1000 == 0) {
            assertEquals(owner, cluster.slotOwner(slot), "slotOwner agrees with slotOwners for " + slot);
          }
          assertTrue(masterPorts.contains(owner.port()), "slot " + slot + " served by master, got " + owner);
          perMaster[owner.port()]++;
        }
        for (int port : masterPorts) {
          assertTrue(perMaster[port] == 5461 || perMaster[port] == 5462, port + " serves " + perMaster[port]);
        }

        // keys in different slots (and so, here, on different masters) through the cluster client
        Set<Integer> ownersWritten = new HashSet<>();
        for (int i = 0; i < 30; i++) {
          String key = "key-" + i;
          redis.set(key, "v" + i);
          ownersWritten.add(cluster.slotOwner(SlotHash.getSlot(key)).port());
        }
        assertEquals(3, ownersWritten.size(), "keys landed on every master");
        for (int i = 0; i < 30; i++) {
          assertEquals("v" + i, redis.get("key-" + i));
        }

        // a write that reached the replica (WAIT on the connection that wrote it), then its master crashes
        String key = "survivor";
        int slot = SlotHash.getSlot(key);
        EmbeddedRedisCluster.Node doomed = cluster.slotOwner(slot);
        StatefulRedisConnection<String, String> owner = conn.getConnection("127.0.0.1", doomed.port());
        RedisCommands<String, String> direct = owner.sync();
        direct.set(key, "still here");
        assertEquals(1L, direct.waitForReplication(1, 5000), "the replica acknowledged the write");

        Set<Integer> doomedSlots = new HashSet<>();
        for (int s = 0; s < EmbeddedRedisCluster.SLOTS; s++) {
          if (owners.get(s).equals(doomed)) {
            doomedSlots.add(s);
          }
        }
        List<EmbeddedRedisCluster.Node> replicasBefore = cluster.replicas();
        int index = cluster.masters().indexOf(doomed);
        long t0 = System.nanoTime();
        EmbeddedRedisCluster.Node killed = cluster.killMaster(index);
        assertEquals(doomed, killed);
        assertFalse(ProcessHandle.of(killed.pid()).map(ProcessHandle::isAlive).orElse(false), "killed");
        assertFalse(isOpen(killed.port()), "killed master's port closed");

        cluster.awaitHealthy(Duration.ofSeconds(60));
        long failoverMillis = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("failover: " + failoverMillis + " ms");

        EmbeddedRedisCluster.Node promoted = cluster.slotOwner(slot);
        assertNotEquals(killed.port(), promoted.port());
        assertTrue(replicasBefore.contains(promoted), "promoted node was a replica: " + promoted);
        assertEquals(3, cluster.masters().size(), "a replica took the killed master's place");
        assertEquals(2, cluster.replicas().size(), "replicas left");
        assertTrue(cluster.masters().contains(promoted), "promoted node is a master: " + promoted);
        // the whole range of the killed master moved to the promoted replica, not just this key's slot
        assertTrue(doomedSlots.size() >= 5461, "killed master served " + doomedSlots.size() + " slots");
        List<EmbeddedRedisCluster.Node> ownersAfter = cluster.slotOwners();
        for (int s = 0; s < EmbeddedRedisCluster.SLOTS; s++) {
          assertEquals(doomedSlots.contains(s) ? promoted : owners.get(s), ownersAfter.get(s), "slot " + s);
        }
      }

      client.shutdown();
      // a new client, which has never seen the old topology (a RedisClusterClient keeps the topology it
      // loaded first across connect() calls), seeded with every node including the dead one
      RedisClusterClient fresh = RedisClusterClient.create(
          cluster.seedUris().stream().map(RedisURI::create).toList());
      try (StatefulRedisClusterConnection<String, String> conn = fresh.connect()) {
        assertEquals("still here", conn.sync().get("survivor"));
        for (int i = 0; i < 30; i++) {
          conn.sync().set("key-" + i, "w" + i);
          assertEquals("w" + i, conn.sync().get("key-" + i));
        }
      } finally {
        fresh.shutdown();
      }
    }
    for (int port : ports) {
      assertFalse(isOpen(port), "close() stopped the node on " + port);
    }
  }

  /**
   * Masters only, {@code cluster-require-full-coverage no}: a killed master's slots have no one to
   * serve them, so {@link EmbeddedRedisCluster#awaitHealthy(Duration)} must say so, while the other
   * masters, not requiring full coverage, still report {@code cluster_state:ok} and serve their keys.
   */
  @Test
  void withoutReplicasAKilledMastersSlotsStayUnservedAndAwaitHealthySaysSo() {
    try (EmbeddedRedisCluster cluster = EmbeddedRedisCluster.builder()
        .masters(3).replicasPerMaster(0).requireFullCoverage(false).start()) {
      System.out.println("start (3 masters, no replicas): " + cluster.startDuration().toMillis() + " ms");
      assertEquals(3, cluster.masters().size());
      assertEquals(List.of(), cluster.replicas());
      EmbeddedRedisCluster.Node last = cluster.slotOwner(EmbeddedRedisCluster.SLOTS - 1);
      EmbeddedRedisCluster.Node killed = cluster.killMaster(2);
      assertEquals(last, killed, "master 2 of 3 served the last third of the slots");

      IllegalStateException unhealthy =
          assertThrows(IllegalStateException.class, () -> cluster.awaitHealthy(Duration.ofSeconds(4)));
      assertTrue(unhealthy.getMessage().contains("not a live master")
          || unhealthy.getMessage().contains("cluster_state"), unhealthy.getMessage());
      assertThrows(IllegalStateException.class, () -> cluster.slotOwner(EmbeddedRedisCluster.SLOTS - 1));
      List<EmbeddedRedisCluster.Node> owners = cluster.slotOwners();
      // 16384 split in three: 0-5460, 5461-10921, 10922-16383
      assertEquals(EmbeddedRedisCluster.SLOTS - 10922, owners.stream().filter(Objects::isNull).count(),
          "the killed master's third (10922-16383) has no live owner");
      assertTrue(owners.subList(0, 10922).stream().allMatch(Objects::nonNull), "the rest is served");

      // the survivors have marked the dead master failed by now (node timeout 1 s, awaited 4 s above)
      // and, not requiring full coverage, still serve their own slots
      EmbeddedRedisCluster.Node survivor = cluster.masters().get(0);
      assertEquals(survivor, cluster.slotOwner(0));
      RedisClient direct = RedisClient.create(survivor.uri());
      try (StatefulRedisConnection<String, String> conn = direct.connect()) {
        RedisCommands<String, String> redis = conn.sync();
        assertEquals("ok", EmbeddedRedisCluster.infoField(redis.clusterInfo(), "cluster_state"));
        assertTrue(redis.clusterNodes().contains(killed.id() + " "), "the dead master is still listed");
        String key = "{" + keyInSlotZero() + "}x";
        assertEquals(0, SlotHash.getSlot(key));
        redis.set(key, "served");
        assertEquals("served", redis.get(key));
      } finally {
        direct.shutdown();
      }
    }
  }

  /** A string whose hash slot is 0, found rather than hard-coded so a wrong guess cannot pass silently. */
  private static String keyInSlotZero() {
    for (int i = 0; ; i++) {
      if (SlotHash.getSlot("k" + i) == 0) {
        return "k" + i;
      }
    }
  }

  private static boolean isOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
