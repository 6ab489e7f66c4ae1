package io.sgstreams.gateway.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** One node's claims on shared window counters, against an in-memory counter that answers asynchronously. */
class WindowAllotmentsTest {
  /** The shared counters (Redis in production): key-window → total; counts the claims made. */
  static final class Counter implements WindowAllotments.Claimer {
    final Map<String, AtomicLong> totals = new ConcurrentHashMap<>();
    final AtomicInteger claims = new AtomicInteger();
    final List<Integer> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
    volatile boolean failing;

    @Override
    public Mono<Long> claim(String key, long window, int n) {
      return Mono.fromCallable(() -> {
        if (failing) {
          throw new IllegalStateException("redis is down");
        }
        claims.incrementAndGet();
        sizes.add(n);
        return totals.computeIfAbsent(key + "-" + window, k -> new AtomicLong()).addAndGet(n);
      }).subscribeOn(Schedulers.parallel());
    }

    long total(String key, long window) {
      AtomicLong t = totals.get(key + "-" + window);
      return t == null ? 0 : t.get();
    }
  }

  static final class Refused extends RuntimeException {
    Refused(long window) {
      super("window " + window + " is used up");
    }
  }

  /** The clock every allotment of a test reads. */
  private final AtomicLong clock = new AtomicLong();

  private WindowAllotments allotments(int limit, WindowAllotments.Claimer claimer) {
    return new WindowAllotments(limit, clock::get, claimer);
  }

  /** One request at {@code offsetMs} into minute {@code window}: true when admitted. */
  private boolean take(WindowAllotments a, String key, long window, long offsetMs) {
    clock.set(window * 60_000 + offsetMs);
    return take(a, key);
  }

  private static boolean take(WindowAllotments a, String key) {
    try {
      a.take(key, Refused::new).block(Duration.ofSeconds(10));
      return true;
    } catch (Refused e) {
      return false;
    }
  }

  @Test
  void chunkCapIsOnePercentOfTheLimitBetweenOneAndSixtyFour() {
    assertEquals(1, WindowAllotments.chunkCap(3));
    assertEquals(1, WindowAllotments.chunkCap(199));
    assertEquals(2, WindowAllotments.chunkCap(200));
    assertEquals(6, WindowAllotments.chunkCap(600));
    assertEquals(64, WindowAllotments.chunkCap(6_400));
    assertEquals(64, WindowAllotments.chunkCap(100_000_000));
  }

  @Test
  void belowTwoHundredAMinuteEveryRequestIsItsOwnIncrementAsBefore() {
    Counter c = new Counter();
    WindowAllotments a = allotments(150, c);
    int admitted = 0;
    for (int i = 0; i < 200; i++) {
      admitted += take(a, "k", 7, 1_000 + i) ? 1 : 0; // 200 requests within a second
    }
    assertEquals(150, admitted);
    assertTrue(c.sizes.stream().allMatch(n -> n == 1), "claims of one unit: " + c.sizes);
    assertEquals(150, c.total("k", 7), "the 150th claim filled the window: the other 50 were refused without a claim");
  }

  @Test
  void aBusyCallerClaimsInGrowingChunksAndAQuietOneStaysExact() {
    Counter c = new Counter();
    WindowAllotments a = allotments(100_000, c);
    for (int i = 0; i < 1_000; i++) {
      assertTrue(take(a, "busy", 1, 5_000 + i)); // 1,000 within a second
    }
    assertTrue(c.claims.get() < 30, "claims for 1,000 requests: " + c.claims.get());
    assertEquals(64, c.sizes.get(c.sizes.size() - 1), "grown to the cap: " + c.sizes);
    long busyTotal = c.total("busy", 1);
    assertTrue(busyTotal >= 1_000 && busyTotal < 1_064, "counted: " + busyTotal);

    for (int i = 0; i < 20; i++) {
      assertTrue(take(a, "quiet", 1, 5_000 + i * 1_500L)); // one request every 1.5 s
    }
    assertEquals(20, c.total("quiet", 1), "a claim per request: the counter is exact");
  }

  @Test
  void twoNodesTogetherNeverAdmitMoreThanTheLimitAndLeaveLittleUnused() throws Exception {
    Counter shared = new Counter();
    int limit = 10_000;
    WindowAllotments nodeA = allotments(limit, shared);
    WindowAllotments nodeB = allotments(limit, shared);
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger refused = new AtomicInteger();
    clock.set(3 * 60_000 + 1_000);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> fs = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      WindowAllotments node = t % 2 == 0 ? nodeA : nodeB;
      fs.add(pool.submit(() -> {
        start.await();
        for (int i = 0; i < 2_000; i++) {
          if (take(node, "k")) {
            admitted.incrementAndGet();
          } else {
            refused.incrementAndGet();
          }
        }
        return null;
      }));
    }
    start.countDown();
    for (Future<?> f : fs) {
      f.get(60, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertEquals(16_000, admitted.get() + refused.get());
    assertTrue(admitted.get() <= limit, "never more than the limit: " + admitted.get());
    assertTrue(admitted.get() >= limit - 2 * 63, "at most cap - 1 left unused per node: " + admitted.get());
    assertTrue(shared.claims.get() < 16_000 / 10, "claims were shared by the requests: " + shared.claims.get());
  }

  /** A claimer whose claims wait until {@link #release} (the first {@code held} ones). */
  static final class HeldClaims implements WindowAllotments.Claimer {
    final Counter counter = new Counter();
    final AtomicInteger started = new AtomicInteger();
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public Mono<Long> claim(String key, long window, int n) {
      return Mono.defer(() -> {
        started.incrementAndGet();
        return Mono.fromCallable(() -> release.await(10, TimeUnit.SECONDS))
            .subscribeOn(Schedulers.boundedElastic())
            .then(counter.claim(key, window, n));
      });
    }
  }

  @Test
  void requestsWaitingForOneClaimShareItInsteadOfEachClaiming() throws Exception {
    HeldClaims held = new HeldClaims();
    WindowAllotments a = allotments(1_000_000, held);
    clock.set(60_000 + 1_000);
    List<Mono<Void>> waiting = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Mono<Void> w = a.take("k", Refused::new).cache();
      w.subscribe(v -> {}, e -> {});
      waiting.add(w);
    }
    assertEquals(1, held.started.get(), "50 requests, one claim in flight");
    held.release.countDown();
    for (Mono<Void> w : waiting) {
      w.block(Duration.ofSeconds(10));
    }
    // the held claim of 1, then growing claims once it was in (2, 4, 8, …): far fewer than 50
    assertTrue(held.counter.claims.get() < 12, "claims: " + held.counter.sizes);
    assertTrue(held.counter.total("k", 1) >= 50, "every admitted request was counted: " + held.counter.total("k", 1));
  }

  @Test
  void theMinuteTurningWhileRequestsWaitForAClaimEndsWithEveryRequestAnswered() throws Exception {
    HeldClaims held = new HeldClaims();
    WindowAllotments a = allotments(100_000, held);
    clock.set(60_000 + 59_990); // the last 10 ms of minute 1
    List<Mono<Void>> waiting = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      Mono<Void> w = a.take("k", Refused::new).cache();
      w.subscribe(v -> {}, e -> {});
      waiting.add(w);
    }
    clock.set(2 * 60_000 + 5); // minute 2 began while they wait
    for (int i = 0; i < 20; i++) {
      Mono<Void> w = a.take("k", Refused::new).cache();
      w.subscribe(v -> {}, e -> {});
      waiting.add(w);
    }
    assertEquals(2, held.started.get(), "minute 2 did not wait on minute 1's claim: " + held.started.get());
    held.release.countDown();
    for (Mono<Void> w : waiting) {
      w.block(Duration.ofSeconds(10)); // a request livelocked between the two windows would time out here
    }
    long minute2 = held.counter.total("k", 2);
    assertTrue(minute2 >= 40 - held.counter.total("k", 1) && minute2 <= 40 + WindowAllotments.chunkCap(100_000),
        "minute 1: " + held.counter.total("k", 1) + ", minute 2: " + minute2 + ", claims " + held.counter.sizes);
    assertTrue(held.counter.claims.get() < 20, "claims: " + held.counter.sizes);
  }

  @Test
  void aClockSteppedBackCountsInTheLaterWindow() {
    Counter c = new Counter();
    WindowAllotments a = allotments(100_000, c);
    assertTrue(take(a, "k", 5, 1_000));
    assertTrue(take(a, "k", 4, 59_000)); // the clock went back to minute 4
    assertEquals(0, c.total("k", 4), "nothing claimed for an earlier window");
    assertTrue(c.total("k", 5) >= 2);
  }

  @Test
  void unitsOfAnEndedWindowAreNeverUsedAndItsAllotmentIsForgotten() {
    Counter c = new Counter();
    WindowAllotments a = allotments(100_000, c);
    for (int i = 0; i < 200; i++) {
      take(a, "k", 10, 1_000 + i);
    }
    long left = c.total("k", 10) - 200;
    assertTrue(left > 0, "units claimed and not yet used in window 10: " + left);
    assertTrue(take(a, "k", 11, 1_000));
    assertEquals(1, c.total("k", 11), "window 11 claimed its own unit");
    assertEquals(c.total("k", 10), 200 + left, "window 10's counter untouched");

    take(a, "other", 11, 1_000);
    assertEquals(2, a.size());
    take(a, "k", 12, 1_000);
    assertEquals(1, a.size(), "the window-11 allotment of 'other' was forgotten when window 12 began");
  }

  @Test
  void aFailedClaimFailsItsRequestsAndTheNextRequestClaimsAgain() {
    Counter c = new Counter();
    WindowAllotments a = allotments(1_000, c);
    c.failing = true;
    clock.set(60_000 + 1_000);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> a.take("k", Refused::new).block(Duration.ofSeconds(10)));
    assertEquals("redis is down", e.getMessage());
    c.failing = false;
    assertTrue(take(a, "k", 1, 1_001));
    assertEquals(1, c.claims.get(), "the failed claim counted nothing; the next one did");
    assertTrue(c.total("k", 1) >= 1);
  }

  @Test
  void aFullWindowIsRefusedWithoutAskingAgain() {
    Counter c = new Counter();
    WindowAllotments a = allotments(2, c);
    assertTrue(take(a, "k", 1, 1_000));
    assertTrue(take(a, "k", 1, 1_000));
    int claims = c.claims.get();
    for (int i = 0; i < 10; i++) {
      assertTrue(!take(a, "k", 1, 1_000));
    }
    assertEquals(claims, c.claims.get(), "the claim that filled the window said so: the rest were refused locally");
  }
}
