package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.PendingEntry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;

/**
 * Clean shutdown: a {@code sg worker} whose handler takes 200 ms per message (16 at once) is sent
 * SIGTERM while it holds entries and 400 messages are queued (on 64 channels: the engine keeps order
 * per channel, so one channel would be handled one message at a time). The process must exit by
 * itself (waited for up to its drain timeout + 20 s; how long it took is printed, not asserted);
 * replies are published after the signal (the in-flight handlers finish); every entry it held is
 * then either answered and acknowledged or still pending and unanswered (nothing finished is left
 * pending, nothing is half done); answered + pending + unread = everything; and a worker restarted
 * with the same node id answers everything: each message exactly once, pending 0.
 */
@Timeout(120)
class CleanShutdownTest {
  private static final int MESSAGES = 400;
  private static final int CONCURRENCY = 16;
  private static final Duration DRAIN = Duration.ofSeconds(10);

  @Test
  void sigtermDrainsInFlightWorkAndARestartedWorkerFinishesTheRest() throws Exception {
    try (ProcessRig rig = new ProcessRig("clean-shutdown", TestRedis.url(), Duration.ofMillis(5000))) {
      try {
        run(rig);
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    Map<String, String> worker = Map.of(
        DelayedEchoHandlerFactory.DELAY_ENV, "200",
        "SG_WORKER_CONCURRENCY", Integer.toString(CONCURRENCY),
        "SG_DRAIN_TIMEOUT_MS", Long.toString(DRAIN.toMillis()));
    NodeProcess first = rig.startWorker("s1", "delayed-echo", worker);
    RedisEventBus bus = rig.bus(Role.GATEWAY);
    String consumer = "worker-s1";

    Map<String, String> envelopeByEntry = new ConcurrentHashMap<>();
    Flux.range(0, MESSAGES)
        .flatMap(i -> {
          InboundEnvelope in = InboundEnvelope.create("web", "ch" + (i % 64), "u", "m" + i);
          return bus.publishInbound(in).doOnNext(entry -> envelopeByEntry.put(entry, in.id()));
        }, 64)
        .then().block(Duration.ofSeconds(30));
    assertEquals(MESSAGES, envelopeByEntry.size());

    await("work under way").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> Streams.length(bus, rig.outboundStream()) >= 2 * CONCURRENCY);
    // SIGTERM while the worker holds entries (read, not yet acknowledged: in flight)
    List<PendingEntry> heldAtSigterm = await("entries in flight").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10))
        .until(() -> pending(bus, rig, consumer), l -> !l.isEmpty());
    Set<String> answeredAtSigterm = ProcessRig.outboundCounts(bus, rig.outboundStream()).keySet();
    long t0 = System.nanoTime();
    Integer exit = first.terminate(DRAIN.plusSeconds(20));
    Duration took = SseReplies.since(t0);
    assertNotNull(exit, "the worker did not exit within the drain timeout + 20 s after SIGTERM");
    assertTrue(exit == 0 || exit == 143, "exit status after SIGTERM: " + exit);
    assertTrue(first.logText().contains("stopped"), "the shutdown hook ran to its end");

    Map<String, Integer> answered = ProcessRig.outboundCounts(bus, rig.outboundStream());
    Set<String> drained = new HashSet<>(answered.keySet());
    drained.removeAll(answeredAtSigterm);
    List<PendingEntry> left = pending(bus, rig, consumer);
    long groupPending = Streams.pending(bus, rig.inboundStream(), rig.workerGroup());
    Set<String> heldIds = ids(heldAtSigterm, envelopeByEntry);
    System.out.printf("CleanShutdownTest: exit %d after %d ms; %d entries held at SIGTERM, %d answered before it, %d answered while"
            + " draining (%d of the held ones); %d left pending for other workers (group pending %d)%n",
        exit, took.toMillis(), heldAtSigterm.size(), answeredAtSigterm.size(), drained.size(),
        intersection(heldIds, drained).size(), left.size(), groupPending);

    // the handlers in flight at SIGTERM finished (a worker that abandoned them would publish nothing more)
    assertTrue(!drained.isEmpty(), "no reply was published after SIGTERM");
    // every entry held at SIGTERM is either answered and acknowledged, or still pending and unanswered
    Set<String> leftIds = ids(left, envelopeByEntry);
    for (String id : heldIds) {
      assertTrue(answered.containsKey(id) != leftIds.contains(id), id + ": answered=" + answered.containsKey(id) + " pending=" + leftIds.contains(id));
    }
    // what finished is acknowledged: no entry left pending has a reply
    assertEquals(Set.of(), intersection(leftIds, answered.keySet()), "answered but left unacknowledged");
    assertEquals(left.size(), groupPending, "only the stopped consumer had pending entries");
    // nothing lost: answered + pending + not yet delivered to the group = everything published
    long undelivered = bus.groupLag(rig.inboundStream(), rig.workerGroup()).block(Duration.ofSeconds(10)).orElse(-1);
    if (undelivered >= 0) {
      assertEquals(MESSAGES, answered.size() + left.size() + undelivered,
          "answered " + answered.size() + " + pending " + left.size() + " + unread " + undelivered);
    }
    assertTrue(answered.size() < MESSAGES, "work was left for the restarted worker (else the test proves nothing)");

    // the same node comes back and finishes everything, each message once
    NodeProcess second = rig.startWorker("s1", "delayed-echo", worker);
    try {
      await("every message answered after the restart").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
          .until(() -> ProcessRig.outboundCounts(bus, rig.outboundStream()).size() >= MESSAGES);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("after the restart: answered " + ProcessRig.outboundCounts(bus, rig.outboundStream()).size()
          + ", group pending " + Streams.pending(bus, rig.inboundStream(), rig.workerGroup())
          + ", lag " + bus.groupLag(rig.inboundStream(), rig.workerGroup()).block(Duration.ofSeconds(10))
          + ", inbound length " + Streams.length(bus, rig.inboundStream())
          + "; restarted worker metrics:" + second.messageMetrics(), e);
    }
    await("pending 0").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
        .until(() -> Streams.pending(bus, rig.inboundStream(), rig.workerGroup()) == 0);
    Map<String, Integer> all = ProcessRig.outboundCounts(bus, rig.outboundStream());
    assertEquals(new HashSet<>(envelopeByEntry.values()), all.keySet(), "every message answered, nothing else");
    List<String> repeated = all.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey).limit(20).toList();
    assertEquals(List.of(), repeated, "a clean shutdown causes no second processing");
    assertTrue(second.isAlive());
  }

  private static List<PendingEntry> pending(RedisEventBus bus, ProcessRig rig, String consumer) {
    return bus.pendingRange(rig.inboundStream(), rig.workerGroup(), consumer, "-", "+", 10_000).collectList().block(Duration.ofSeconds(10));
  }

  private static Set<String> ids(List<PendingEntry> entries, Map<String, String> envelopeByEntry) {
    return entries.stream().map(p -> envelopeByEntry.get(p.id())).collect(Collectors.toSet());
  }

  private static Set<String> intersection(Set<String> a, Set<String> b) {
    Set<String> s = new HashSet<>(a);
    s.retainAll(b);
    return s;
  }
}
