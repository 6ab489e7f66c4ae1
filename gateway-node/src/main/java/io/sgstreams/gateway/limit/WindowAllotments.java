package io.sgstreams.gateway.limit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;

/**
 * One node's share of fixed one-minute limits kept in Redis window counters: instead of one counter
 * increment per request, the node claims a few units of a key's window at a time (one {@code INCRBY})
 * and hands them out locally.
 *
 * <ul>
 *   <li><b>Never more than the limit across nodes.</b> Every unit handed out was counted in Redis
 *       first; a claim that crosses the limit keeps only the units below it.
 *   <li><b>Slow callers stay exact.</b> Each window starts claiming one unit at a time; the claim
 *       doubles only while claims come less than a second apart, up to {@link #chunkCap(int)}
 *       (1 % of the limit, at most 64; 1 below a limit of 200). So a node can hold at most
 *       {@code cap - 1} units of a window that it never uses — counted, so other nodes refuse that
 *       much early — and limits under 200 a minute behave exactly as one increment per request.
 *   <li>A claim in flight is shared by the requests that need it; a failed claim fails them
 *       (as the increment did) and the next request claims again.
 *   <li>Units are only ever used in the window they were claimed for; an allotment never goes back
 *       to an earlier window (a request that read the clock just before the minute turned counts
 *       in the new one); a node forgets the windows that ended.
 *   <li>Latency: a burst at the start of a window waits for about log2(burst) claims, one after
 *       another; below a limit of 200 a minute (claims of one unit) a caller's concurrent requests
 *       on one node are counted one claim after another instead of in parallel.
 * </ul>
 *
 * <p>Measured (docs/performance.md): the per-request rate-limit script was one Redis round trip in every
 * {@code POST}'s path; without it, Redis CPU per request under {@code wrk} fell by 18–23 %.
 */
final class WindowAllotments {
  /** Claims closer together than this grow the next claim. */
  static final long GROW_WITHIN_MS = 1_000;
  static final int MAX_CHUNK = 64;
  static final long WINDOW_MS = 60_000;

  /** Claims {@code n} units of the window: the window counter's total after adding them. */
  interface Claimer {
    Mono<Long> claim(String key, long window, int n);
  }

  private final int limit;
  private final int cap;
  private final LongSupplier millis;
  private final Claimer claimer;
  private final Map<String, Allotment> byKey = new ConcurrentHashMap<>();
  private volatile long sweptWindow = Long.MIN_VALUE;

  /** @param millis the clock (epoch milliseconds): window = millis / 60,000 */
  WindowAllotments(int limit, LongSupplier millis, Claimer claimer) {
    if (limit <= 0) {
      throw new IllegalArgumentException("limit must be positive, got " + limit);
    }
    this.limit = limit;
    this.cap = chunkCap(limit);
    this.millis = millis;
    this.claimer = claimer;
  }

  /** The most units one claim takes: 1 % of the limit, between 1 and {@link #MAX_CHUNK}. */
  static int chunkCap(int limit) {
    return Math.max(1, Math.min(MAX_CHUNK, limit / 100));
  }

  /**
   * Takes one unit of {@code key}'s current window; completes when taken, errors with
   * {@code refused.apply(window)} when the window is used up. A request that waited for a claim
   * reads the clock again: if the minute turned meanwhile, it counts in the new window.
   */
  Mono<Void> take(String key, LongFunction<? extends RuntimeException> refused) {
    return Mono.defer(() -> {
      long now = millis.getAsLong();
      long window = now / WINDOW_MS;
      sweep(window);
      Mono<Void> claim;
      while (true) {
        Allotment a = byKey.computeIfAbsent(key, k -> new Allotment());
        synchronized (a) {
          if (a.removed) {
            continue; // swept between the lookup and the lock: look it up again
          }
          // never backwards: a late request of the previous minute (or a clock stepped back) counts in the
          // allotment's window, so that two windows never take turns throwing each other's claims away
          long w = Math.max(window, a.window);
          if (a.window != w) {
            a.start(w);
          }
          if (a.left > 0) {
            a.left--;
            return Mono.empty();
          }
          if (a.full) {
            return Mono.error(refused.apply(w));
          }
          if (a.claim == null) {
            a.claim = claim(a, key, w, a.nextChunk(now));
          }
          claim = a.claim;
          break;
        }
      }
      // the claim's units may go to other requests waiting for it: take again once it is in
      return claim.then(take(key, refused));
    });
  }

  private Mono<Void> claim(Allotment a, String key, long window, int n) {
    Object self = new Object();
    a.claimId = self;
    return claimer.claim(key, window, n)
        .doOnNext(total -> {
          long before = total - n;
          long granted = Math.max(0, Math.min(n, limit - before));
          synchronized (a) {
            if (a.window == window) {
              a.left += (int) granted;
              a.full = total >= limit;
            }
            ended(a, self);
          }
        })
        // a failure, or (never expected) no answer: the next request claims again
        .doOnTerminate(() -> {
          synchronized (a) {
            ended(a, self);
          }
        })
        .then()
        .cache();
  }

  private static void ended(Allotment a, Object claim) {
    if (a.claimId == claim) {
      a.claim = null;
      a.claimId = null;
    }
  }

  /** Forgets the allotments of ended windows, once per window. */
  private void sweep(long window) {
    if (sweptWindow >= window) {
      return;
    }
    sweptWindow = window;
    byKey.values().removeIf(a -> {
      synchronized (a) {
        if (a.window < window && a.claim == null) {
          a.removed = true;
          return true;
        }
        return false;
      }
    });
  }

  /** Keys with an allotment (for tests). */
  int size() {
    return byKey.size();
  }

  private final class Allotment {
    long window = Long.MIN_VALUE;
    int left;
    boolean full;
    int chunk;
    long lastClaimMillis;
    Mono<Void> claim;
    Object claimId;
    boolean removed;

    /** A new window: nothing claimed yet; a claim still in flight for the old one adds nothing to it. */
    void start(long w) {
      window = w;
      left = 0;
      full = false;
      chunk = 1;
      lastClaimMillis = Long.MIN_VALUE;
      claim = null;
      claimId = null;
    }

    int nextChunk(long now) {
      if (lastClaimMillis != Long.MIN_VALUE && now - lastClaimMillis < GROW_WITHIN_MS) {
        chunk = Math.min(cap, chunk * 2);
      }
      lastClaimMillis = now;
      return chunk;
    }
  }
}
