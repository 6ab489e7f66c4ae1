package io.sgstreams.worker.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A handler slower than the arrival rate, taken to the limit: no handler can finish until the test
 * opens a gate ({@link GatedHandlerFactory}), while 1,800 messages are published. The worker must
 * keep its in-flight bound, the backlog must wait in Redis as unread entries (group lag) rather
 * than in the worker's memory, memory must stay flat, and once the handlers may finish every
 * published message must be answered exactly once: nothing read from Redis is dropped.
 *
 * <p>Before, the handler took 20 ms and the test asserted a sampled lag of at least 200: true only
 * if the producer outran the worker by enough at the moments the sampler looked. With the gate,
 * the figures while gated are exact: 8 handlers started, 8 entries in flight, 8 pending in Redis,
 * lag = published - 8.
 */
class SlowHandlerTest {
  static final int CONCURRENCY = 8;
  static final int TOTAL = 1800;
  static final long HEAP_GROWTH_LIMIT = 64L << 20;
  static final Duration WITHIN = Duration.ofSeconds(60);

  @Test
  void backpressureStaysInRedisAndNothingReadIsDropped() throws InterruptedException {
    GatedHandlerFactory.reset();
    try (FailureRig rig = new FailureRig(GatedHandlerFactory.NAME,
        // read COUNT stays 50: the in-flight bound, not the count, must limit reads. One consumer,
        // so claiming is never needed: a long claim threshold keeps this test about backpressure
        c -> c.withConcurrency(CONCURRENCY).withClaim(Duration.ofSeconds(30), Duration.ofSeconds(1)))) {
      long heapBefore = usedHeapAfterGc();
      Set<String> published = ConcurrentHashMap.newKeySet();
      try {
        Flux.range(0, TOTAL)
            .map(i -> InboundEnvelope.create("web", "chan-" + i, "u", "slow " + i))
            .flatMap(in -> rig.probe.publishInbound(in).doOnNext(id -> published.add(in.id())), 64)
            .then().block(WITHIN);
        assertEquals(TOTAL, published.size());

        // no handler can finish: the worker fills its in-flight bound and must stop there
        await("the worker reaches its in-flight bound").atMost(WITHIN)
            .until(() -> GatedHandlerFactory.started() >= CONCURRENCY);
        Thread.sleep(1000); // time to read past the bound, if it would
        int started = GatedHandlerFactory.started();
        int inFlight = rig.node.router().receiver().inFlight();
        long pending = rig.pending();
        long lag = rig.probe.groupLag(rig.inbound(), rig.group()).block(FailureRig.CMD).orElse(-1);
        System.out.printf("slow: gated with %d published: %d handlers started, receiver in-flight %d, XPENDING %d, lag %d%n",
            published.size(), started, inFlight, pending, lag);
        assertEquals(CONCURRENCY, started, "handlers started while none could finish");
        assertEquals(CONCURRENCY, inFlight, "receiver in-flight while gated");
        assertEquals(CONCURRENCY, pending, "entries read from Redis and not acknowledged while gated");
        assertEquals(TOTAL - CONCURRENCY, lag, "the backlog waits in Redis as unread entries");
      } finally {
        GatedHandlerFactory.open(); // also on failure: lets the rig shut down without waiting out the drain
      }

      // the backlog drains; the bound holds throughout
      AtomicLong maxInFlight = new AtomicLong();
      AtomicLong samples = new AtomicLong();
      Disposable sampler = Flux.interval(Duration.ofMillis(5), Schedulers.single())
          .onBackpressureDrop()
          .subscribe(t -> {
            maxInFlight.accumulateAndGet(rig.node.router().receiver().inFlight(), Math::max);
            samples.incrementAndGet();
          });
      try {
        await("every message answered").atMost(WITHIN).pollInterval(Duration.ofMillis(200)).until(() ->
            rig.length(rig.outbound()) >= published.size() && rig.pending() == 0);
      } finally {
        sampler.dispose();
      }
      long heapAfter = usedHeapAfterGc();
      System.out.printf("slow: released; %d in-flight samples, max %d; heap %d MB -> %d MB%n",
          samples.get(), maxInFlight.get(), heapBefore >> 20, heapAfter >> 20);

      assertTrue(maxInFlight.get() <= CONCURRENCY, "receiver in-flight above the bound: " + maxInFlight.get());
      assertTrue(heapAfter - heapBefore < HEAP_GROWTH_LIMIT,
          "heap grew by " + ((heapAfter - heapBefore) >> 20) + " MB");
      Map<String, Long> replies = rig.replies().stream()
          .collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
      assertEquals(published, replies.keySet(), "every published message answered");
      assertTrue(replies.values().stream().allMatch(n -> n == 1), "one reply each");
      assertEquals(TOTAL, GatedHandlerFactory.started(), "each message handled once");
      assertEquals(0, rig.pending());
      assertEquals(0, rig.length(rig.dlq()), "nothing dead-lettered");
    }
  }

  /** Used heap after a full collection: an approximation (System.gc() is a request) that is good enough for a 64 MB margin. */
  static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    System.gc();
    return rt.totalMemory() - rt.freeMemory();
  }
}
