package io.sgstreams.worker.partition;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.PartitionCountMismatchException;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.PartitionsConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.consume.PartitionedRouter.LeaseEvent;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.Outbound;
import io.sgstreams.worker.WorkerNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Leased partitions on one Redis (any P works on a single server): 200 conversations with sequence
 * numbers while workers join (1 → 3) and leave (one drained, one abandoned with its work in
 * flight). Every message answered exactly once, every conversation handled in order across the
 * workers, and the lease log never shows two owners of a partition at once.
 */
class LeasedPartitionsTest {
  static final int PARTITIONS = 6;
  static final int CHANNELS = 200;
  static final int PER_CHANNEL = 15;
  static final Duration WITHIN = Duration.ofSeconds(90);

  @Test
  void conversationsStayInOrderWhileWorkersJoinAndLeave() throws Exception {
    OrderProbeHandlerFactory.reset();
    String url = TestRedis.url();
    SgConfig base = TestRedis.config("lw1");
    SgConfig config = base.withPartitions(new PartitionsConfig(PARTITIONS, PartitionsConfig.Assignment.LEASE,
        Duration.ofMillis(1500), 0));
    WorkerConfig settings = ConfigLoader.load(null, Map.of("SG_WORKER_HANDLER", OrderProbeHandlerFactory.NAME,
        "SG_WORKER_ADMIN_PORT", "-1", "SG_NODE_ID", "x")).worker();
    List<LeaseEvent> log = new CopyOnWriteArrayList<>();
    Map<String, RedisEventBus> buses = new ConcurrentHashMap<>();
    Map<String, WorkerNode> nodes = new ConcurrentHashMap<>();
    RedisEventBus probe = TestRedis.bus(url, Role.GATEWAY, config.withNodeId("probe"));
    java.util.function.Function<String, WorkerNode> start = id -> {
      RedisEventBus b = TestRedis.bus(url, Role.WORKER, config.withNodeId(id));
      buses.put(id, b);
      WorkerNode n = WorkerNode.start(b, settings, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
      n.partitioned().onLeaseEvent(e -> log.add(e));
      nodes.put(id, n);
      return n;
    };
    try {
      probe.ensureStreams(List.of()).block(WITHIN);
      start.apply("lw1");
      await().atMost(WITHIN).until(() -> nodes.get("lw1").partitioned().owned().size() == PARTITIONS);

      // conversations published in order, each at its own pace, while workers come and go
      List<InboundEnvelope> sent = Collections.synchronizedList(new ArrayList<>());
      var publishing = Flux.range(0, CHANNELS)
          .flatMap(c -> Flux.range(0, PER_CHANNEL)
              .concatMap(seq -> {
                InboundEnvelope in = InboundEnvelope.create("web", "conv-" + c, "u", Integer.toString(seq))
                    .withTenant(c % 2 == 0 ? "acme" : "default");
                return probe.publishInbound(in).doOnNext(id -> sent.add(in))
                    .delayElement(Duration.ofMillis(300 + (c * 7 + seq * 13) % 300));
              }), CHANNELS)
          .subscribeOn(Schedulers.boundedElastic())
          .then()
          .toFuture();

      await().atMost(WITHIN).until(() -> sent.size() >= CHANNELS * PER_CHANNEL / 5);
      start.apply("lw2");
      start.apply("lw3");
      // the share moves: 6 partitions over 3 workers, 2 each
      await().atMost(WITHIN).until(() -> nodes.values().stream().allMatch(n -> n.partitioned().owned().size() == 2));
      int sentAtRebalance = sent.size();

      // one leaves cleanly (drained, leases handed back) while messages keep coming
      nodes.get("lw2").shutdown().block(WITHIN);
      buses.get("lw2").close();
      nodes.remove("lw2");
      await().atMost(WITHIN).until(() -> nodes.values().stream().mapToInt(n -> n.partitioned().owned().size()).sum() == PARTITIONS);

      // one abandons its work: no drain (in-flight entries stay pending for the next owner)
      nodes.get("lw3").shutdown(Duration.ZERO).block(WITHIN);
      buses.get("lw3").close();
      nodes.remove("lw3");
      publishing.get(WITHIN.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      int total = CHANNELS * PER_CHANNEL;
      assertEquals(total, sent.size());
      System.out.printf("leased: %d sent (%d before the rebalance), lease events %d%n", total, sentAtRebalance, log.size());

      // every message answered exactly once
      Set<String> ids = sent.stream().map(InboundEnvelope::id).collect(Collectors.toSet());
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(200))
          .until(() -> answers(probe).keySet().containsAll(ids));
      Map<String, Long> answers = answers(probe);
      List<String> twice = answers.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey).toList();
      for (String id : twice) {
        System.out.println("twice: " + id + " by " + Outbound.all(probe, "web").stream().filter(o -> o.inReplyTo().equals(id))
            .map(o -> o.content() + "@" + o.enqueuedAt()).toList() + " in " + sent.stream().filter(i -> i.id().equals(id))
            .map(i -> i.tenant() + "/" + i.channelId() + "#" + i.content() + " p" + probe.partitionOf(i)).toList());
      }
      log.forEach(e -> System.out.println("lease " + e));
      assertEquals(List.of(), twice, "messages answered more than once");
      assertEquals(ids, answers.keySet());

      // every conversation handled in order (redeliveries of abandoned work may repeat a number, never go back)
      Map<String, List<Integer>> handled = OrderProbeHandlerFactory.handled();
      assertEquals(CHANNELS, handled.size());
      List<String> violations = new ArrayList<>();
      Set<String> movedConversations = new HashSet<>();
      handled.forEach((conv, seqs) -> {
        int high = -1;
        for (int s : seqs) {
          if (s < high) {
            violations.add(conv + " " + seqs);
            break;
          }
          high = Math.max(high, s);
        }
        if (!seqs.equals(java.util.stream.IntStream.range(0, PER_CHANNEL).boxed().toList())) {
          movedConversations.add(conv);
        }
      });
      assertEquals(List.of(), violations, "conversations handled out of order");

      // the race happened: partitions changed owner while conversations were in flight
      Map<String, Set<String>> nodesPerConversation = new HashMap<>();
      for (OutboundEnvelope o : Outbound.all(probe, "web")) {
        nodesPerConversation.computeIfAbsent(o.tenant() + "/" + o.channelId(), k -> new HashSet<>()).add(o.content());
      }
      long spanning = nodesPerConversation.values().stream().filter(s -> s.size() > 1).count();
      System.out.printf("leased: %d conversations answered by more than one worker, %d redelivered%n", spanning,
          movedConversations.size());
      assertTrue(spanning > 0, "no conversation changed worker mid-way: the handover was not exercised");

      // never two owners: per partition, each acquisition follows the previous owner's release
      assertNoOverlap(log);
    } finally {
      for (WorkerNode n : nodes.values()) {
        n.shutdown(Duration.ZERO).block(WITHIN);
      }
      buses.values().forEach(RedisEventBus::close);
      probe.close();
    }
  }

  @Test
  void aNodeWithAnotherPartitionCountRefusesToStart() {
    String url = TestRedis.url();
    SgConfig config = TestRedis.config("pc1").withPartitions(4);
    try (RedisEventBus four = TestRedis.bus(url, Role.WORKER, config);
        RedisEventBus eight = TestRedis.bus(url, Role.WORKER, config.withPartitions(8).withNodeId("pc2"))) {
      four.ensureStreams(List.of()).block(WITHIN);
      PartitionCountMismatchException e = org.junit.jupiter.api.Assertions.assertThrows(
          PartitionCountMismatchException.class, () -> eight.ensureStreams(List.of()).block(WITHIN));
      assertTrue(e.getMessage().contains("SG_PARTITIONS=8") && e.getMessage().contains("4 ways"), e.getMessage());
      assertEquals(4, four.checkPartitions().block(WITHIN));
    }
  }

  static Map<String, Long> answers(RedisEventBus bus) {
    return Outbound.all(bus, "web").stream().collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
  }

  /** Per partition: acquired(A) … released/lost(A) … acquired(B): no acquisition while another token is held. */
  static void assertNoOverlap(List<LeaseEvent> log) {
    Map<Integer, List<LeaseEvent>> byPartition = log.stream()
        .sorted(java.util.Comparator.comparingLong(LeaseEvent::atMillis))
        .collect(Collectors.groupingBy(LeaseEvent::partition));
    byPartition.forEach((p, events) -> {
      String holder = null;
      for (LeaseEvent e : events) {
        if (e.type().equals("acquired")) {
          assertEquals(null, holder, "partition " + p + " acquired by " + e.token() + " while " + holder + " held it: " + events);
          holder = e.token();
        } else if (e.token().equals(holder)) {
          holder = null;
        }
      }
    });
    assertTrue(log.stream().noneMatch(e -> e.type().equals("lost")), "a lease was lost: " + log);
  }
}
