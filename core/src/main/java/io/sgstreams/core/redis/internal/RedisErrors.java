package io.sgstreams.core.redis.internal;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/** How Redis errors are told apart, and the backoff used for the ones that pass. */
public final class RedisErrors {
  private RedisErrors() {}

  /** The consumer group (or its stream) is gone: recreate it at 0 so nothing is skipped. */
  public static boolean isNoGroup(Throwable t) {
    return message(t).startsWith("NOGROUP");
  }

  /**
   * Errors that go away by themselves: lost or refused connections, timeouts, a server that is
   * loading or failing over, cluster redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN), an unblocked
   * read, commands rejected while a (cluster node) connection is down.
   */
  public static boolean isTransient(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof RedisConnectionException
          || c instanceof io.lettuce.core.RedisCommandTimeoutException
          || c instanceof TimeoutException
          || c instanceof IOException) {
        return true;
      }
      if (c instanceof RedisCommandExecutionException) {
        String m = message(c);
        return m.startsWith("LOADING") || m.startsWith("MOVED") || m.startsWith("ASK")
            || m.startsWith("TRYAGAIN") || m.startsWith("CLUSTERDOWN") || m.startsWith("MASTERDOWN")
            || m.startsWith("UNBLOCKED") || m.startsWith("READONLY") || m.startsWith("BUSY");
      }
      if (c instanceof RedisException && (message(c).contains("Connection") || message(c).contains("not connected")
          || message(c).contains("Commands are rejected") || message(c).contains("connection closed"))) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code op} retried on transient errors up to {@code attempts} times in all, with jittered
   * exponential backoff. Cheaper than {@code retryWhen}, which builds a companion sink for every
   * subscription: this sits on the per-message publish and ack paths. Lazy: nothing is sent
   * before subscription, and each attempt calls {@code op} anew.
   */
  public static <T> Mono<T> withRetries(Supplier<Mono<T>> op, int attempts, Duration first, Duration max) {
    return attempt(op, 1, attempts, first, max);
  }

  private static <T> Mono<T> attempt(Supplier<Mono<T>> op, int n, int attempts, Duration first, Duration max) {
    return Mono.defer(op).onErrorResume(
        e -> n < attempts && isTransient(e),
        e -> Mono.delay(backoff(n - 1, first, max)).then(Mono.defer(() -> attempt(op, n + 1, attempts, first, max))));
  }

  /** A jittered pause for attempt {@code n} (0-based). */
  public static Duration backoff(int n, Duration first, Duration max) {
    long base = first.toMillis() << Math.min(n, 20);
    long capped = Math.min(base, max.toMillis());
    return Duration.ofMillis(capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1));
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    return m == null ? "" : m;
  }
}
