package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.PendingEntry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Worker killed: three {@code sg worker} processes share the worker group while 20,000 requests
 * flow in at about 2,000/s; once ~30% are answered one worker is SIGKILLed. Every request must reach
 * the client exactly once (at-least-once processing, duplicates suppressed by the gateway), none is
 * lost, and the dead consumer's pending entries are claimed and answered by the other two.
 *
 * <p>The handler is {@code delayed-echo} with 5 ms per message, so the killed worker surely dies with
 * entries read but not acknowledged. 20,000 requests take 21–60 s here (2 busy cores, three worker
 * JVMs starting in parallel take 8–19 s of it).
 *
 * <p>Known failure (docs/failure-tests.md, "Open production issue"): when the killed worker had
 * published replies it had not yet acknowledged, the reclaimed second reply arrives more than
 * 10,000 replies later, outside the gateway's count-bounded duplicate filter, and the client gets
 * it twice. The failure message lists the affected requests' outbound entries and their distance.
 */
@Timeout(120)
class WorkerKilledTest {
  private static final int MESSAGES = 20_000;
  private static final List<String> CHANNELS = IntStream.range(0, 16).mapToObj(i -> "c" + i).toList();

  @Test
  void everyRequestIsAnsweredExactlyOnceWhenAWorkerIsKilled() throws Exception {
    long started = System.nanoTime();
    try (ProcessRig rig = new ProcessRig("worker-killed", TestRedis.url(), Duration.ofMillis(2000))) {
      try {
        run(rig, started);
        System.out.printf("WorkerKilledTest: %d requests, took %d ms%n", MESSAGES, SseReplies.since(started).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig, long started) throws Exception {
    Map<String, String> slow = Map.of(DelayedEchoHandlerFactory.DELAY_ENV, "5");
    NodeProcess victim = rig.spawnWorker("w1", "delayed-echo", slow);
    NodeProcess w2 = rig.spawnWorker("w2", "delayed-echo", slow);
    NodeProcess w3 = rig.spawnWorker("w3", "delayed-echo", slow);
    ProcessRig.awaitReady(List.of(victim, w2, w3));
    System.out.printf("WorkerKilledTest: 3 workers ready after %d ms%n", SseReplies.since(started).toMillis());
    SseReplies client = rig.startGateway(CHANNELS);
    RedisEventBus bus = rig.bus(Role.GATEWAY);

    // inbound stream entry id -> envelope id, to map the dead consumer's pending entries to requests
    Map<String, String> envelopeByEntry = new ConcurrentHashMap<>();
    Set<String> sent = ConcurrentHashMap.newKeySet();
    AtomicReference<Throwable> publishError = new AtomicReference<>();
    Disposable publisher = Flux.range(0, MESSAGES)
        .buffer(100)
        .delayElements(Duration.ofMillis(50)) // ~2,000/s: slow enough that the kill lands mid-run
        .concatMap(batch -> Flux.fromIterable(batch).flatMap(i -> {
          InboundEnvelope in = InboundEnvelope.create("web", CHANNELS.get(i % CHANNELS.size()), "u" + i, "m" + i);
          return bus.publishInbound(in).doOnNext(entry -> {
            envelopeByEntry.put(entry, in.id());
            sent.add(in.id());
          });
        }, 100))
        .subscribe(x -> { }, publishError::set);
    try {
      await("30% answered").atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(20))
          .until(() -> client.answered() >= MESSAGES * 3 / 10 || publishError.get() != null);
      assertEquals(null, publishError.get(), "publishing failed");

      victim.kill();
      long killedAt = System.nanoTime();
      List<PendingEntry> orphaned = bus.pendingRange(rig.inboundStream(), rig.workerGroup(), "worker-w1", "-", "+", 100_000)
          .collectList().block(Duration.ofSeconds(10));
      System.out.printf("WorkerKilledTest: killed worker-w1 at %d answered; it left %d entries pending%n",
          client.answered(), orphaned.size());
      assertTrue(!orphaned.isEmpty(), "the killed worker had work in flight (else this test proves nothing about reclaiming)");

      await("all published").atMost(Duration.ofSeconds(30)).until(() -> sent.size() == MESSAGES || publishError.get() != null);
      assertEquals(null, publishError.get(), "publishing failed");
      assertEquals(MESSAGES, sent.size());

      // the dead consumer's entries are claimed by the others
      await("dead consumer's pending list empty").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> bus.pendingRange(rig.inboundStream(), rig.workerGroup(), "worker-w1", "-", "+", 10)
              .collectList().block(Duration.ofSeconds(10)).isEmpty());
      System.out.printf("WorkerKilledTest: the dead consumer's pending list was empty %d ms after the kill (claim min idle 2000 ms)%n",
          SseReplies.since(killedAt).toMillis());
      await("every request answered at the client").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> client.answered() >= MESSAGES);
      System.out.printf("WorkerKilledTest: all answered after %d ms%n", SseReplies.since(started).toMillis());
      await("group pending empty").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> Streams.pending(bus, rig.inboundStream(), rig.workerGroup()) == 0);

      // every reply on the outbound stream reached the client or was dropped as a duplicate by the gateway
      long outboundLen = Streams.length(bus, rig.outboundStream());
      await("gateway fan-out caught up with the outbound stream").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .until(() -> client.events() + (long) rig.gatewayDuplicatesSuppressed() >= outboundLen);
      assertEquals(outboundLen, client.events() + (long) rig.gatewayDuplicatesSuppressed(),
          "every outbound reply is either delivered once or suppressed as a duplicate");

      Map<String, Integer> atLeastOnce = ProcessRig.outboundCounts(bus, rig.outboundStream());
      long duplicatedOnStream = atLeastOnce.values().stream().filter(c -> c > 1).count();
      System.out.printf("WorkerKilledTest: outbound stream holds %d replies for %d requests; %d requests were processed more than once;"
              + " gateway suppressed %.0f duplicates%n",
          outboundLen, atLeastOnce.size(), duplicatedOnStream, rig.gatewayDuplicatesSuppressed());

      // exactly once at the client, nothing lost, nothing unexpected
      List<String> notOnce = sent.stream().filter(id -> client.count(id) != 1)
          .map(id -> id + "=" + client.count(id)).limit(20).collect(Collectors.toList());
      assertEquals(List.of(), notOnce, "requests not delivered exactly once (first 20); their outbound entries: "
          + ProcessRig.outboundEntries(bus, rig.outboundStream(), notOnce.stream().map(s -> s.substring(0, s.indexOf('='))).toList()));
      assertEquals(MESSAGES, client.answered(), "replies to unknown requests");
      assertEquals(List.of(), client.problems(), "SSE errors");

      // the orphaned entries were answered (by w2 or w3: the content is the handling node's id)
      List<String> orphanIds = new ArrayList<>();
      for (PendingEntry p : orphaned) {
        String id = envelopeByEntry.get(p.id());
        assertTrue(id != null, "pending entry " + p.id() + " is one of ours");
        orphanIds.add(id);
      }
      List<String> unanswered = orphanIds.stream().filter(id -> !atLeastOnce.containsKey(id)).toList();
      assertEquals(List.of(), unanswered, "orphaned entries without a reply on the outbound stream");
      assertTrue(orphanIds.stream().allMatch(id -> client.count(id) == 1), "orphaned entries delivered once each");

      assertTrue(w2.isAlive() && w3.isAlive(), "the surviving workers are still running");
      assertTrue(!victim.isAlive(), "the victim is dead");
    } finally {
      publisher.dispose();
    }
  }
}
