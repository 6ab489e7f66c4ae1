package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.partition.PartitionLeases;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Leased partitions across separate {@code sg worker} processes: 3 workers share 6 partitions while
 * conversations with sequence numbers flow in; one worker is SIGKILLed (its leases expire after the
 * TTL and the others take its partitions, adopting the entries it held), another gets SIGTERM (it
 * drains and hands its leases back at once). At the end every request has exactly one reply on the
 * outbound streams (not merely one for the client: the last reply and the ack are one fenced
 * script), and every conversation's replies are in sequence order. The handover times (kill or
 * SIGTERM to every partition held again) are measured and printed; the bounds the issue names
 * (TTL + 2 s after a crash, 2 s after SIGTERM) are reported, not asserted.
 */
@Timeout(180)
class PartitionHandoverTest {
  static final int PARTITIONS = 6;
  static final int MESSAGES = 6_000;
  static final int CHANNELS = 60;
  static final Duration TTL = Duration.ofSeconds(3);

  @Test
  void partitionsMoveOnKillAndTermWithoutLossDuplicatesOrReordering() throws Exception {
    Map<String, String> overrides = Map.of("SG_PARTITIONS", Integer.toString(PARTITIONS),
        "SG_PARTITION_ASSIGNMENT", "lease", "SG_LEASE_TTL_MS", Long.toString(TTL.toMillis()));
    try (ProcessRig rig = new ProcessRig("partition-handover", TestRedis.url(), Duration.ofMillis(2000), overrides)) {
      try {
        run(rig);
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    Map<String, String> slow = Map.of(DelayedEchoHandlerFactory.DELAY_ENV, "5");
    NodeProcess w1 = rig.spawnWorker("h1", "delayed-echo", slow);
    NodeProcess w2 = rig.spawnWorker("h2", "delayed-echo", slow);
    NodeProcess w3 = rig.spawnWorker("h3", "delayed-echo", slow);
    ProcessRig.awaitReady(List.of(w1, w2, w3));
    RedisEventBus bus = rig.bus(Role.GATEWAY);
    PartitionLeases leases = new PartitionLeases(bus, bus.topology().workerGroup(), "observer", TTL);
    await().atMost(Duration.ofSeconds(60)).until(() -> holders(leases).values().stream()
        .collect(Collectors.groupingBy(h -> h, Collectors.counting())).values().stream().allMatch(n -> n == 2)
        && holders(leases).size() == PARTITIONS);
    System.out.println("handover: 3 workers hold 2 partitions each: " + holders(leases));

    Map<String, Integer> seqOf = new ConcurrentHashMap<>();
    Map<String, String> conversationOf = new ConcurrentHashMap<>();
    Set<String> sent = ConcurrentHashMap.newKeySet();
    Disposable publisher = Flux.range(0, MESSAGES / CHANNELS)
        .delayElements(Duration.ofMillis(20)) // ~3,000/s over 60 conversations: the kill and the stop land mid-run
        .concatMap(seq -> Flux.range(0, CHANNELS).flatMap(c -> {
          InboundEnvelope in = InboundEnvelope.create("web", "conv-" + c, "u", "m" + seq).withTenant("t" + (c % 3));
          seqOf.put(in.id(), seq);
          conversationOf.put(in.id(), in.tenant() + "/" + in.channelId());
          return bus.publishInbound(in).doOnNext(x -> sent.add(in.id()));
        }))
        .subscribe();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() >= MESSAGES / 4);
      List<Integer> victims = partitionsOf(leases, "worker-h1");
      long killedAt = System.nanoTime();
      w1.kill();
      await().atMost(TTL.plus(Duration.ofSeconds(30))).pollInterval(Duration.ofMillis(25))
          .until(() -> victims.stream().allMatch(p -> held(leases, p) && !holder(leases, p).startsWith("worker-h1:")));
      long crashHandover = (System.nanoTime() - killedAt) / 1_000_000;
      System.out.printf("handover: SIGKILL of h1 (partitions %s) to all held by others: %d ms (TTL %d ms; the issue's bound: TTL + 2 s = %d ms)%n",
          victims, crashHandover, TTL.toMillis(), TTL.toMillis() + 2000);

      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() >= MESSAGES / 2);
      List<Integer> leaving = partitionsOf(leases, "worker-h2");
      long termAt = System.nanoTime();
      Integer exit = w2.terminate(Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(25))
          .until(() -> leaving.stream().allMatch(p -> held(leases, p) && !holder(leases, p).startsWith("worker-h2:")));
      long termHandover = (System.nanoTime() - termAt) / 1_000_000;
      System.out.printf("handover: SIGTERM of h2 (partitions %s, exit %s) to all held by h3: %d ms (the issue's bound: 2000 ms)%n",
          leaving, exit, termHandover);
      assertEquals(0, exit, "h2's exit status after SIGTERM");

      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() == MESSAGES);
    } finally {
      publisher.dispose();
    }

    // every request answered exactly once on the outbound streams, every conversation in order
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> replies(bus).stream().map(OutboundEnvelope::inReplyTo).collect(Collectors.toSet()).containsAll(sent));
    List<OutboundEnvelope> replies = replies(bus);
    Map<String, Long> counts = replies.stream().collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
    List<String> twice = counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    assertEquals(List.of(), twice, "requests answered more than once");
    assertEquals(sent, counts.keySet());
    Map<String, List<Integer>> order = new HashMap<>();
    for (OutboundEnvelope o : replies) { // per partition stream order; one conversation lives on one partition
      order.computeIfAbsent(conversationOf.get(o.inReplyTo()), k -> new ArrayList<>()).add(seqOf.get(o.inReplyTo()));
    }
    List<String> outOfOrder = order.entrySet().stream()
        .filter(e -> !e.getValue().equals(e.getValue().stream().sorted().toList()))
        .map(e -> e.getKey() + " " + e.getValue()).toList();
    assertEquals(List.of(), outOfOrder, "conversations answered out of order");
    Map<String, Long> byNode = replies.stream().collect(Collectors.groupingBy(OutboundEnvelope::content, Collectors.counting()));
    System.out.println("handover: replies per worker " + byNode);
    assertTrue(byNode.keySet().containsAll(List.of("h1", "h2", "h3")), "every worker answered some: " + byNode);
  }

  static List<OutboundEnvelope> replies(RedisEventBus bus) {
    List<OutboundEnvelope> out = new ArrayList<>();
    for (String stream : bus.topology().outboundStreams("web")) {
      for (StreamMessage<String, byte[]> m : Streams.all(bus, stream)) {
        Envelope e = bus.codec().decode(m.getBody().get("data"));
        if (e instanceof OutboundEnvelope o && !o.isProgress()) {
          out.add(o);
        }
      }
    }
    return out;
  }

  static Map<Integer, String> holders(PartitionLeases leases) {
    Map<Integer, String> out = new HashMap<>();
    IntStream.range(0, PARTITIONS).forEach(p -> {
      String h = holder(leases, p);
      if (!h.isEmpty()) {
        out.put(p, h.substring(0, h.lastIndexOf(':')));
      }
    });
    return out;
  }

  static String holder(PartitionLeases leases, int p) {
    return leases.holder(p).defaultIfEmpty("").block(Duration.ofSeconds(5));
  }

  static boolean held(PartitionLeases leases, int p) {
    return !holder(leases, p).isEmpty();
  }

  static List<Integer> partitionsOf(PartitionLeases leases, String consumer) {
    return holders(leases).entrySet().stream().filter(e -> e.getValue().equals(consumer)).map(Map.Entry::getKey).sorted().toList();
  }
}
