package io.sgstreams.core.util;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Schedulers;
import reactor.util.context.Context;

/**
 * A per-subscription timeout on a {@link Mono}, for the one the engine puts on every handler
 * attempt and the gateway on every waiting request.
 *
 * <p>Hand-written because Reactor's {@code Mono.timeout} schedules each timer on
 * {@code Schedulers.parallel()} (a {@code ScheduledThreadPoolExecutor}: a lock, a heap insert and,
 * on completion, a heap removal per subscription) and wraps the chain in a serialising,
 * subscription-switching subscriber: in the closed-loop benchmark, dropping the handler timeout
 * altogether gave 6 % more round trips per second (docs/performance.md). Here the timer is a
 * Netty {@link HashedWheelTimer} (adding and cancelling a timeout are lock-free queue offers; it
 * fires up to {@link #TICK} late, which no timeout of whole seconds notices) and the operator is one
 * subscriber between the source and its downstream.
 *
 * <p>Semantics as Reactor's: the clock starts at subscription; a source that signals first wins
 * and the timer is cancelled; on time-out the source is cancelled and the subscriber gets a
 * {@link TimeoutException} or, with {@link #orElse}, the fallback value.
 */
public final class Timeouts {
  /** The wheel's tick: how late a timeout may fire, and how long a cancelled one stays in the wheel. */
  static final Duration TICK = Duration.ofMillis(10);

  private static final class Holder {
    /**
     * What a fired timeout triggers (the failure path: logging, dead-lettering, the next delivery,
     * a 504) runs on Reactor's parallel scheduler, not on the wheel's one thread: a burst of
     * timeouts is handled in parallel and never delays the wheel's next tick.
     */
    static final HashedWheelTimer TIMER = new HashedWheelTimer(new DefaultThreadFactory("sg-timeouts", true),
        TICK.toMillis(), TimeUnit.MILLISECONDS, 512, false, -1, Holder::handOff);

    private static void handOff(Runnable fired) {
      try {
        Schedulers.parallel().schedule(fired);
      } catch (java.util.concurrent.RejectedExecutionException shutDown) {
        fired.run(); // the parallel scheduler was shut down (tests do that): on the wheel's thread rather than never
      }
    }
  }

  private Timeouts() {}

  /** {@code source}, failing with a {@link TimeoutException} when it has not signalled within {@code timeout}. */
  public static <T> Mono<T> timeout(Mono<T> source, Duration timeout) {
    return TimeoutMono.assembled(new TimeoutMono<>(source, timeout, null, true));
  }

  /** {@code source}, or {@code fallback} when it has not signalled within {@code timeout}. */
  public static <T> Mono<T> orElse(Mono<T> source, Duration timeout, T fallback) {
    return TimeoutMono.assembled(new TimeoutMono<>(source, timeout, Objects.requireNonNull(fallback, "fallback"), false));
  }

  private static final class TimeoutMono<T> extends Mono<T> {
    private final Mono<T> source;
    private final long nanos;
    private final T fallback;
    private final boolean error;

    TimeoutMono(Mono<T> source, Duration timeout, T fallback, boolean error) {
      this.source = Objects.requireNonNull(source, "source");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("timeout must not be negative: " + timeout);
      }
      long n;
      try {
        n = timeout.toNanos();
      } catch (ArithmeticException tooLong) {
        n = Long.MAX_VALUE; // ~292 years: never
      }
      this.nanos = n;
      this.fallback = fallback;
      this.error = error;
    }

    /** Through Reactor's assembly hooks (checkpoints, onEachOperator), as its own operators are. */
    static <T> Mono<T> assembled(TimeoutMono<T> m) {
      return onAssembly(m);
    }

    @Override
    public void subscribe(CoreSubscriber<? super T> actual) {
      TimeoutSubscriber<T> s = new TimeoutSubscriber<>(actual, this);
      source.subscribe(s);
    }
  }

  /**
   * Sits between the source and {@code actual}. {@code state} decides who signals downstream: the
   * source (once it has a value or terminates first) or the timer (if it fires first); the loser's
   * signals are dropped. The timer's task is a separate holder cleared on termination, so a
   * cancelled timeout waiting in the wheel for its bucket keeps nothing of the chain reachable.
   */
  private static final class TimeoutSubscriber<T> implements CoreSubscriber<T>, Subscription {
    private static final int ACTIVE = 0;
    private static final int VALUED = 1;
    private static final int DONE = 2;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<TimeoutSubscriber> STATE =
        AtomicIntegerFieldUpdater.newUpdater(TimeoutSubscriber.class, "state");

    private final CoreSubscriber<? super T> actual;
    private final TimeoutMono<T> parent;
    private volatile int state;
    private Subscription upstream;
    private volatile Fire<T> fire;
    private volatile Timeout timeout;
    /** A fallback value is emitted on request only: the downstream may not have asked yet. */
    private volatile boolean fallbackPending;
    private volatile boolean requested;

    TimeoutSubscriber(CoreSubscriber<? super T> actual, TimeoutMono<T> parent) {
      this.actual = actual;
      this.parent = parent;
    }

    @Override
    public Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
      if (Operators.validate(upstream, s)) {
        upstream = s;
        Fire<T> f = new Fire<>(this);
        fire = f;
        // downstream first (Reactive Streams 1.9: nothing before onSubscribe), then the clock; the
        // source may have finished meanwhile (a synchronous answer to the request): then no timer
        actual.onSubscribe(this);
        if (f.target != null) {
          Timeout t = Holder.TIMER.newTimeout(f, parent.nanos, TimeUnit.NANOSECONDS);
          timeout = t;
          if (f.target == null) {
            t.cancel(); // terminated while the timer was being armed
          }
        }
      }
    }

    @Override
    public void onNext(T t) {
      if (STATE.compareAndSet(this, ACTIVE, VALUED)) {
        stopTimer();
        actual.onNext(t);
      } else if (state != VALUED) {
        Operators.onDiscard(t, actual.currentContext());
      }
    }

    @Override
    public void onError(Throwable e) {
      if (STATE.getAndSet(this, DONE) != DONE) { // from ACTIVE or VALUED: the timer had not fired, no cancel came
        stopTimer();
        actual.onError(e);
      } else {
        Operators.onErrorDropped(e, actual.currentContext());
      }
    }

    @Override
    public void onComplete() {
      if (STATE.getAndSet(this, DONE) != DONE) {
        stopTimer();
        actual.onComplete();
      }
    }

    /** The timer fired. */
    void timedOut() {
      if (!STATE.compareAndSet(this, ACTIVE, DONE)) {
        return;
      }
      fire = null;
      upstream.cancel();
      if (parent.error) {
        actual.onError(new TimeoutException("Did not observe any item or terminal signal within "
            + Duration.ofNanos(parent.nanos).toMillis() + "ms (and no fallback has been configured)"));
        return;
      }
      fallbackPending = true;
      if (requested) {
        emitFallback();
      }
    }

    private void emitFallback() {
      if (fallbackPending) {
        synchronized (this) {
          if (!fallbackPending) {
            return;
          }
          fallbackPending = false;
        }
        actual.onNext(parent.fallback);
        actual.onComplete();
      }
    }

    @Override
    public void request(long n) {
      if (Operators.validate(n)) {
        requested = true;
        if (fallbackPending) {
          emitFallback();
          return;
        }
        upstream.request(n);
      }
    }

    @Override
    public void cancel() {
      fallbackPending = false;
      int s = state;
      if (s != DONE && STATE.getAndSet(this, DONE) != DONE) {
        stopTimer();
      }
      upstream.cancel();
    }

    private void stopTimer() {
      Fire<T> f = fire;
      if (f != null) {
        fire = null;
        f.target = null;
        Timeout t = timeout;
        if (t != null) {
          t.cancel(); // else onSubscribe sees the cleared target and cancels (or never arms) it
        }
      }
    }
  }

  /** The wheel's task: points at its subscriber until that terminates. */
  private static final class Fire<T> implements TimerTask {
    volatile TimeoutSubscriber<T> target;

    Fire(TimeoutSubscriber<T> target) {
      this.target = target;
    }

    @Override
    public void run(Timeout t) {
      TimeoutSubscriber<T> s = target;
      if (s != null) {
        target = null;
        s.timedOut();
      }
    }
  }
}
