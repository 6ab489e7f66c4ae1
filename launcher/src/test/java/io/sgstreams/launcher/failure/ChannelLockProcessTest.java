package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * {@code SG_ORDERING=channel-lock} across separate {@code sg worker} processes sharing one stream
 * (P = 1, every worker reads it): conversations arrive in bursts (three entries of each at once, so
 * they are read by different workers), one worker is SIGKILLed mid-run (the entries it held, and the
 * turns they hold, are claimed after {@code claim_min_idle}), another gets SIGTERM (it drains; what it
 * held waiting is given back). At the end every request is answered, each conversation's first answers
 * are in sequence order on the outbound stream, and a second answer comes only from the killed worker
 * (shared reading writes the reply and the ack as two commands; the gateway drops the duplicate).
 */
@Timeout(180)
class ChannelLockProcessTest {
  static final int CHANNELS = 40;
  static final int ROUNDS = 40;
  static final int BURST = 3;

  @Test
  void conversationsStayInOrderAcrossWorkerProcessesThroughKillAndTerm() throws Exception {
    Map<String, String> overrides = Map.of("SG_PARTITION_ASSIGNMENT", "shared", "SG_ORDERING", "channel-lock");
    try (ProcessRig rig = new ProcessRig("channel-lock", TestRedis.url(), Duration.ofMillis(1500), overrides)) {
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
    NodeProcess w1 = rig.spawnWorker("k1", "delayed-echo", slow);
    NodeProcess w2 = rig.spawnWorker("k2", "delayed-echo", slow);
    NodeProcess w3 = rig.spawnWorker("k3", "delayed-echo", slow);
    ProcessRig.awaitReady(List.of(w1, w2, w3));
    RedisEventBus bus = rig.bus(Role.GATEWAY);

    Map<String, Integer> seqOf = new ConcurrentHashMap<>();
    Map<String, String> conversationOf = new ConcurrentHashMap<>();
    Set<String> sent = ConcurrentHashMap.newKeySet();
    Disposable publisher = Flux.range(0, ROUNDS)
        .delayElements(Duration.ofMillis(100))
        .concatMap(round -> Flux.range(0, CHANNELS).flatMap(c -> Flux.range(round * BURST, BURST).concatMap(seq -> {
          InboundEnvelope in = InboundEnvelope.create("web", "conv-" + c, "u", "m" + seq).withTenant("t" + (c % 3));
          seqOf.put(in.id(), seq);
          conversationOf.put(in.id(), in.tenant() + "/" + in.channelId());
          return bus.publishInbound(in).doOnNext(x -> sent.add(in.id()));
        })))
        .subscribe();
    int total = CHANNELS * ROUNDS * BURST;
    try {
      // each leaves once it has answered some (so it held entries and turns when it went)
      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() >= total / 4 && answered(bus, "k1"));
      w1.kill();
      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() >= total / 2 && answered(bus, "k2"));
      Integer exit = w2.terminate(Duration.ofSeconds(30));
      assertEquals(0, exit, "k2's exit status after SIGTERM");
      await().atMost(Duration.ofSeconds(60)).until(() -> sent.size() == total);
    } finally {
      publisher.dispose();
    }

    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> PartitionHandoverTest.replies(bus).stream().map(OutboundEnvelope::inReplyTo).collect(Collectors.toSet())
            .containsAll(sent));
    List<OutboundEnvelope> replies = PartitionHandoverTest.replies(bus);
    Map<String, List<String>> answeredBy = new HashMap<>();
    for (OutboundEnvelope o : replies) {
      answeredBy.computeIfAbsent(o.inReplyTo(), k -> new ArrayList<>()).add(o.content());
    }
    assertEquals(sent, answeredBy.keySet());
    List<String> twiceByLive = answeredBy.entrySet().stream()
        .filter(e -> e.getValue().size() > 1 && !e.getValue().subList(0, e.getValue().size() - 1).contains("k1"))
        .map(e -> e.getKey() + " " + e.getValue()).toList();
    assertEquals(List.of(), twiceByLive, "answered twice other than after the kill");
    long twice = answeredBy.values().stream().filter(l -> l.size() > 1).count();

    // first answers per conversation in sequence order
    Set<String> seen = new HashSet<>();
    Map<String, List<Integer>> order = new LinkedHashMap<>();
    Map<String, Set<String>> workersOf = new HashMap<>();
    for (OutboundEnvelope o : replies) {
      if (seen.add(o.inReplyTo())) {
        String conv = conversationOf.get(o.inReplyTo());
        order.computeIfAbsent(conv, k -> new ArrayList<>()).add(seqOf.get(o.inReplyTo()));
        workersOf.computeIfAbsent(conv, k -> new HashSet<>()).add(o.content());
      }
    }
    List<String> outOfOrder = order.entrySet().stream()
        .filter(e -> !e.getValue().equals(e.getValue().stream().sorted().toList()))
        .map(e -> e.getKey() + " " + e.getValue()).toList();
    assertEquals(List.of(), outOfOrder, "conversations answered out of order");
    Map<String, Long> byNode = replies.stream().collect(Collectors.groupingBy(OutboundEnvelope::content, Collectors.counting()));
    long spanning = workersOf.values().stream().filter(s -> s.size() > 1).count();
    System.out.printf("channel-lock processes: %d requests, replies per worker %s, %d of %d conversations answered by "
        + "more than one worker, %d answered twice (after the kill)%n", total, byNode, spanning, CHANNELS, twice);
    assertTrue(byNode.keySet().containsAll(List.of("k1", "k2", "k3")), "every worker answered some: " + byNode);
    assertTrue(spanning > 0, "no conversation was answered by more than one worker: the cross-worker order was not exercised");
  }

  static boolean answered(RedisEventBus bus, String worker) {
    return PartitionHandoverTest.replies(bus).stream().anyMatch(o -> o.content().equals(worker));
  }
}
