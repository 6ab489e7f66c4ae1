package io.sgstreams.worker.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A handler slower than the arrival rate (20 ms per message, 8 at once: at most 400/s, fed
 * ~600/s for 3 s). The worker must keep its in-flight bound, memory must stay flat, the backlog
 * must build up in Redis as unread entries (group lag), and once the producer stops every
 * published message must be answered: nothing read from Redis is dropped.
 */
class SlowHandlerTest {
  static final int CONCURRENCY = 8;
  static final int PER_TICK = 6;
  static final int TICKS = 300; // every 10 ms: ~600 msg/s for ~3 s
  static final long HEAP_GROWTH_LIMIT = 64L << 20;
  static final Duration WITHIN = Duration.ofSeconds(40);

  @Test
  void backpressureStaysInRedisAndNothingReadIsDropped() {
    try (FailureRig rig = new FailureRig(SlowHandlerFactory.NAME,
        // read COUNT stays 50: the in-flight bound, not the count, must limit reads. One consumer,
        // so claiming is never needed: a long claim threshold keeps this test about backpressure
        // (a self-claim racing an XACK can duplicate a reply; see docs/failure-tests-inprocess.md)
        c -> c.withConcurrency(CONCURRENCY).withClaim(Duration.ofSeconds(30), Duration.ofSeconds(1)))) {
      long heapBefore = usedHeapAfterGc();
      Set<String> published = ConcurrentHashMap.newKeySet();
      AtomicLong maxInFlight = new AtomicLong();
      AtomicLong maxPending = new AtomicLong();
      AtomicLong maxLag = new AtomicLong();
      AtomicLong samples = new AtomicLong();

      // sampler: what the worker holds (receiver in-flight, XPENDING) and what waits in Redis (lag)
      Disposable sampler = Flux.interval(Duration.ofMillis(20), Schedulers.single())
          .onBackpressureDrop()
          .concatMap(t -> Mono.zip(rig.probe.pendingCount(rig.inbound(), rig.group()),
                  rig.probe.groupLag(rig.inbound(), rig.group()).defaultIfEmpty(OptionalLong.empty()))
              .doOnNext(p -> {
                maxInFlight.accumulateAndGet(rig.node.router().receiver().inFlight(), Math::max);
                maxPending.accumulateAndGet(p.getT1(), Math::max);
                p.getT2().ifPresent(lag -> maxLag.accumulateAndGet(lag, Math::max));
                samples.incrementAndGet();
              })
              .onErrorResume(e -> Mono.empty()))
          .subscribe();
      try {
        long t0 = System.nanoTime();
        Flux.interval(Duration.ofMillis(10))
            .take(TICKS)
            .onBackpressureBuffer(TICKS)
            .concatMap(t -> Flux.range(0, PER_TICK)
                .map(i -> InboundEnvelope.create("web", "chan-" + (t * PER_TICK + i), "u", "slow " + t + "/" + i))
                .flatMap(in -> rig.probe.publishInbound(in).doOnNext(id -> published.add(in.id()))))
            .then().block(WITHIN);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long lagAtStop = rig.probe.groupLag(rig.inbound(), rig.group()).block(WITHIN).orElse(-1);
        System.out.printf("slow: published %d in %.2f s (%.0f/s); lag when the producer stopped %d%n",
            published.size(), seconds, published.size() / seconds, lagAtStop);
        assertEquals(TICKS * PER_TICK, published.size());

        await().atMost(WITHIN).pollInterval(Duration.ofMillis(200)).until(() ->
            rig.length(rig.outbound()) >= published.size() && rig.pending() == 0);
      } finally {
        sampler.dispose();
      }
      long heapAfter = usedHeapAfterGc();
      System.out.printf("slow: %d samples; max in-flight %d, max XPENDING %d, max lag %d; heap %d MB -> %d MB%n",
          samples.get(), maxInFlight.get(), maxPending.get(), maxLag.get(), heapBefore >> 20, heapAfter >> 20);

      assertTrue(samples.get() > 50, "the sampler ran while the load ran: " + samples.get());
      assertTrue(maxInFlight.get() <= CONCURRENCY, "receiver in-flight above the bound: " + maxInFlight.get());
      // Redis's pending list may briefly hold, besides the in-flight entries, ids whose XACK is on
      // the wire: the engine frees a slot when an entry is settled, not when its group-committed
      // XACK returns (docs/consumer-engine.md, Settling). So the Redis-side bound is the
      // concurrency plus one round of acks; a leak (reading COUNT 50 past the bound) shows far above.
      assertTrue(maxPending.get() <= 2L * CONCURRENCY, "entries read and not acknowledged above the bound: " + maxPending.get());
      assertTrue(maxLag.get() >= 200, "the backlog should wait in Redis as unread entries, max lag " + maxLag.get());
      assertTrue(heapAfter - heapBefore < HEAP_GROWTH_LIMIT,
          "heap grew by " + ((heapAfter - heapBefore) >> 20) + " MB");

      Map<String, Long> replies = rig.replies().stream()
          .collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
      assertEquals(published, replies.keySet(), "every published message answered");
      assertTrue(replies.values().stream().allMatch(n -> n == 1), "one reply each");
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
