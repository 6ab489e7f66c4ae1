package io.sgstreams.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class TimeoutsTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  @Test
  void aValueBeforeTheTimeoutPassesThrough() {
    StepVerifier.create(Timeouts.timeout(Mono.just("x"), LONG)).expectNext("x").verifyComplete();
    StepVerifier.create(Timeouts.orElse(Mono.just("x"), LONG, "fallback")).expectNext("x").verifyComplete();
  }

  @Test
  void emptyAndErrorPassThrough() {
    StepVerifier.create(Timeouts.timeout(Mono.empty(), LONG)).verifyComplete();
    StepVerifier.create(Timeouts.timeout(Mono.error(new IllegalStateException("boom")), LONG))
        .verifyErrorMessage("boom");
  }

  @Test
  void aSilentSourceTimesOutAndIsCancelled() {
    AtomicInteger cancelled = new AtomicInteger();
    Mono<String> never = Mono.<String>never().doOnCancel(cancelled::incrementAndGet);
    StepVerifier.create(Timeouts.timeout(never, Duration.ofMillis(50)))
        .expectError(TimeoutException.class)
        .verify(Duration.ofSeconds(10));
    assertEquals(1, cancelled.get());
  }

  @Test
  void aSilentSourceGivesTheFallbackAndIsCancelled() {
    AtomicInteger cancelled = new AtomicInteger();
    Mono<String> never = Mono.<String>never().doOnCancel(cancelled::incrementAndGet);
    StepVerifier.create(Timeouts.orElse(never, Duration.ofMillis(50), "fallback"))
        .expectNext("fallback")
        .verifyComplete();
    assertEquals(1, cancelled.get());
  }

  @Test
  void theFallbackWaitsForDemand() throws Exception {
    StepVerifier.create(Timeouts.orElse(Mono.<String>never(), Duration.ofMillis(20), "fallback"), 0)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(200)) // timed out meanwhile, nothing requested
        .thenRequest(1)
        .expectNext("fallback")
        .verifyComplete();
  }

  @Test
  void theClockStartsAtSubscriptionAndNeverFiresAfterAValue() throws Exception {
    Sinks.One<String> sink = Sinks.one();
    List<Object> signals = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    Timeouts.timeout(sink.asMono(), Duration.ofMillis(100))
        .subscribe(signals::add, e -> {
          signals.add(e);
          done.countDown();
        }, () -> {
          signals.add("complete");
          done.countDown();
        });
    sink.tryEmitValue("v");
    assertTrue(done.await(10, TimeUnit.SECONDS));
    Thread.sleep(300); // well past the timeout: the timer was cancelled, no second terminal signal
    assertEquals(List.of("v", "complete"), signals);
  }

  @Test
  void aDownstreamCancelCancelsTheSourceAndTheTimer() throws Exception {
    AtomicInteger cancelled = new AtomicInteger();
    AtomicReference<Throwable> error = new AtomicReference<>();
    var d = Timeouts.timeout(Mono.<String>never().doOnCancel(cancelled::incrementAndGet), Duration.ofMillis(50))
        .subscribe(v -> {}, error::set);
    d.dispose();
    Thread.sleep(300);
    assertEquals(1, cancelled.get());
    assertNull(error.get());
  }

  /**
   * Nothing reaches the subscriber before its onSubscribe has returned (Reactive Streams 1.9): the
   * timer is armed after it. A downstream that dawdles in onSubscribe (a descheduled thread) past
   * a 1 ms timeout gets the time-out only afterwards, on Reactor's parallel scheduler, not on the
   * wheel's thread.
   */
  @Test
  void theTimerStartsAfterTheSubscriberHasItsSubscription() throws Exception {
    AtomicReference<String> seen = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    Timeouts.timeout(Mono.<String>never(), Duration.ofMillis(1)).subscribe(new reactor.core.CoreSubscriber<String>() {
      private volatile boolean inOnSubscribe;

      @Override
      public void onSubscribe(org.reactivestreams.Subscription s) {
        inOnSubscribe = true;
        try {
          Thread.sleep(100); // ten wheel ticks
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        inOnSubscribe = false;
        s.request(1);
      }

      @Override
      public void onNext(String v) {
        seen.set("value");
        done.countDown();
      }

      @Override
      public void onError(Throwable e) {
        seen.set((inOnSubscribe ? "during onSubscribe: " : "") + e.getClass().getSimpleName() + " on "
            + Thread.currentThread().getName().replaceAll("-\\d+$", ""));
        done.countDown();
      }

      @Override
      public void onComplete() {
        seen.set("complete");
        done.countDown();
      }
    });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals("TimeoutException on parallel", seen.get());
  }

  @Test
  void anEndlessTimeoutNeverFires() {
    StepVerifier.create(Timeouts.timeout(Mono.just("x"), Duration.ofSeconds(Long.MAX_VALUE))).expectNext("x").verifyComplete();
  }

  @Test
  void theContextReachesTheSource() {
    Mono<String> source = Mono.deferContextual(c -> Mono.just(c.get("k")));
    StepVerifier.create(Timeouts.timeout(source, LONG).contextWrite(c -> c.put("k", "from downstream")))
        .expectNext("from downstream")
        .verifyComplete();
  }

  /**
   * A source that answers right at its deadline and ignores cancellation (as a sink emitting on
   * another thread does when the cancel arrives too late), many times: whichever side wins, the
   * subscriber sees exactly one outcome, the value or the time-out, and both outcomes occur (the
   * race ran).
   */
  @Test
  void aValueRacingTheTimerGivesExactlyOneOutcome() throws Exception {
    int rounds = 400;
    AtomicInteger values = new AtomicInteger();
    AtomicInteger timeouts = new AtomicInteger();
    AtomicInteger extra = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(rounds);
    var emitter = java.util.concurrent.Executors.newScheduledThreadPool(2);
    try {
      for (int i = 0; i < rounds; i++) {
        // the wheel ticks every 10 ms: a value 5-25 ms after subscription lands on either side of a 15 ms timeout
        long delay = 5 + (i % 21);
        Mono<String> source = new Mono<>() {
          @Override
          public void subscribe(reactor.core.CoreSubscriber<? super String> actual) {
            actual.onSubscribe(reactor.core.publisher.Operators.emptySubscription());
            emitter.schedule(() -> {
              actual.onNext("v");
              actual.onComplete();
            }, delay, TimeUnit.MILLISECONDS);
          }
        };
        // a raw subscriber: Reactor's lambda subscribers drop signals after the first terminal one
        Timeouts.timeout(source, Duration.ofMillis(15)).subscribe(new reactor.core.CoreSubscriber<String>() {
          private final AtomicInteger signals = new AtomicInteger();

          @Override
          public void onSubscribe(org.reactivestreams.Subscription s) {
            s.request(1);
          }

          @Override
          public void onNext(String v) {
            values.incrementAndGet();
            if (signals.get() > 0) {
              extra.incrementAndGet(); // a value after the time-out
            }
          }

          @Override
          public void onError(Throwable e) {
            if (e instanceof TimeoutException) {
              timeouts.incrementAndGet();
            }
            terminal();
          }

          @Override
          public void onComplete() {
            terminal();
          }

          private void terminal() {
            if (signals.incrementAndGet() > 1) {
              extra.incrementAndGet();
            } else {
              all.countDown();
            }
          }
        });
      }
      assertTrue(all.await(30, TimeUnit.SECONDS));
      Thread.sleep(200); // late signals of the losers, if any
    } finally {
      emitter.shutdownNow();
    }
    assertEquals(0, extra.get());
    assertEquals(rounds, values.get() + timeouts.get());
    assertTrue(values.get() > 0, "no value won the race");
    assertTrue(timeouts.get() > 0, "no time-out won the race");
  }
}
