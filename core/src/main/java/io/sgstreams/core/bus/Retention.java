package io.sgstreams.core.bus;

import io.lettuce.core.XAddArgs;
import io.micrometer.core.instrument.Counter;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.topology.StreamPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The current {@link TrimPlan} of every stream this node publishes to, refreshed in the
 * background at most every {@link #REFRESH} (a reading costs XLEN, XINFO GROUPS and one XPENDING
 * per group with pending entries). Between readings the entries this node added are counted, so
 * a burst is refused at about the cap, not a refresh interval later. The first publish to a stream
 * waits for its first reading; if that fails, the publish goes ahead untrimmed (never trims what
 * it cannot see).
 */
final class Retention {
  private static final Logger log = LoggerFactory.getLogger(Retention.class);
  static final Duration REFRESH = Duration.ofMillis(500);
  /** What a refused publisher is told to wait: a couple of readings later the backlog may have drained. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  private final Topology topology;
  private final Function<String, Mono<StreamState>> reader;
  private final java.util.function.BiFunction<String, String, Mono<Long>> trimmer;
  private final StreamMetrics metrics;
  private final Map<String, Tracked> streams = new ConcurrentHashMap<>();

  /**
   * @param reader reads a stream's state
   * @param trimmer {@code XTRIM stream MINID ~ id}: a reading that finds a work stream at its cap
   *     trims it first (publishing may be refused there, and only an XADD would trim otherwise)
   */
  Retention(Topology topology, Function<String, Mono<StreamState>> reader,
      java.util.function.BiFunction<String, String, Mono<Long>> trimmer, StreamMetrics metrics) {
    this.topology = topology;
    this.reader = reader;
    this.trimmer = trimmer;
    this.metrics = metrics;
  }

  /** The plan for the next XADD to {@code stream}: at once when known, else after the first reading. */
  Mono<Tracked> forStream(String stream) {
    Tracked t = streams.computeIfAbsent(stream, Tracked::new);
    if (t.plan != null) {
      t.refreshIfStale();
      return Mono.just(t);
    }
    return t.read()
        .onErrorResume(e -> {
          log.warn("cannot read the state of {} ({}); publishing without trimming until it can be read", stream, e.toString());
          if (t.plan == null) {
            // stale at once: the next publish reads again
            t.install(TrimPlan.untrimmed(topology.policyFor(stream), stream), System.nanoTime() - REFRESH.toNanos());
          }
          return Mono.just(t.plan);
        })
        .thenReturn(t);
  }

  /** The known plan, or null before the first reading. */
  Tracked known(String stream) {
    Tracked t = streams.get(stream);
    if (t == null || t.plan == null) {
      return null;
    }
    t.refreshIfStale();
    return t;
  }

  /** Reads {@code stream} now and makes it the current plan. */
  Mono<TrimPlan> refresh(String stream) {
    return streams.computeIfAbsent(stream, Tracked::new).read();
  }

  final class Tracked {
    final String stream;
    volatile TrimPlan plan;
    volatile XAddArgs args;
    /** The plan's trim words, encoded ({@link XaddArgs}). */
    volatile byte[][] trimBytes = new byte[0][];
    volatile long readAtNanos;
    final AtomicLong sinceReading = new AtomicLong();
    final AtomicBoolean reading = new AtomicBoolean();
    private volatile Set<String> warnedOvertaken = Set.of();
    private volatile boolean warnedFull;
    /** {@link #published()}'s counter, looked up on first use. */
    private Counter publishedCounter;

    Tracked(String stream) {
      this.stream = stream;
    }

    void refreshIfStale() {
      if (System.nanoTime() - readAtNanos >= REFRESH.toNanos() && !reading.get()) {
        read().subscribe(p -> {}, e -> log.debug("refreshing the state of {} failed: {}", stream, e.toString()));
      }
    }

    Mono<TrimPlan> read() {
      return Mono.defer(() -> {
        if (!reading.compareAndSet(false, true)) {
          TrimPlan p = plan;
          return p != null ? Mono.just(p) : Mono.<TrimPlan>empty();
        }
        long started = System.nanoTime();
        return reader.apply(stream)
            .map(state -> TrimPlan.of(topology.policyFor(stream), state))
            .flatMap(p -> {
              if (p.minId() == null || p.state().length() < p.policy().cap()) {
                return Mono.just(p);
              }
              // at the cap, publishing may be refused, and only an XADD trims: trim here, then read again
              return trimmer.apply(stream, p.minId())
                  .flatMap(removed -> removed > 0
                      ? reader.apply(stream).map(state -> TrimPlan.of(topology.policyFor(stream), state).overtaking(p.overtaken()))
                      : Mono.just(p));
            })
            .doOnNext(p -> install(p, started))
            .doFinally(s -> reading.set(false));
      }).switchIfEmpty(Mono.defer(() -> {
        // another reading is in flight and none has finished yet: wait for it
        return Mono.delay(Duration.ofMillis(5)).then(Mono.defer(() -> {
          TrimPlan p = plan;
          return p != null ? Mono.just(p) : read();
        }));
      }));
    }

    void install(TrimPlan p, long readStartedNanos) {
      // the words before the plan: a publisher that sees the new plan also sees its words
      trimBytes = XaddArgs.encode(p.trimWords());
      args = p.addArgs();
      plan = p;
      readAtNanos = readStartedNanos;
      sinceReading.set(0);
      report(p);
    }

    private void report(TrimPlan p) {
      Set<String> over = Set.copyOf(p.overtaken());
      for (String g : over) {
        if (!warnedOvertaken.contains(g)) {
          metrics.observerOvertaken(stream, g);
          log.warn("group {} on {} is more than {} entries behind: trimming no longer waits for it, and entries it has not read will be trimmed",
              g, stream, p.policy().cap());
        }
      }
      for (String g : warnedOvertaken) {
        if (!over.contains(g)) {
          log.info("group {} on {} is back within {} entries of the end", g, stream, p.policy().cap());
        }
      }
      warnedOvertaken = over;
      boolean full = p.refuses(0);
      if (full && !warnedFull) {
        log.warn("backlog of {} is full: {} entries not yet handled by group {} (cap {}); publishing is refused until it drains",
            stream, p.backlog(), p.backlogGroup(), p.policy().cap());
      } else if (!full && warnedFull) {
        log.info("backlog of {} is below its cap again ({} entries unfinished); publishing resumed", stream, p.backlog());
      }
      warnedFull = full;
    }

    /** Null when the publish may go ahead; else the refusal. */
    BacklogFullException refusal() {
      TrimPlan p = plan;
      long since = sinceReading.get();
      if (!p.refuses(since)) {
        return null;
      }
      long cap = p.policy().cap();
      if (p.backlog() + since >= cap) {
        return new BacklogFullException(stream, p.backlogGroup(), p.backlog() + since, cap, RETRY_AFTER);
      }
      return new BacklogFullException("stream full: it holds " + (p.state().length() + since) + " entries, "
          + StreamPolicy.HARD_LIMIT_FACTOR + " times its cap " + cap + ", behind the oldest entry group " + p.backlogGroup()
          + " has not finished (" + p.minId() + "); trimming waits for it", stream, p.backlogGroup(), p.backlog() + since, cap, RETRY_AFTER);
    }

    /**
     * One entry published to this stream: counted towards the next state read, and on this stream's
     * {@code sg.messages.published} counter, which is looked up once ({@link StreamMetrics#counter}
     * builds a key and searches a map: 1.6 % of the closed loop's samples when done per publish).
     * A race looks it up twice and gets the same counter.
     */
    void published() {
      sinceReading.incrementAndGet();
      Counter c = publishedCounter;
      if (c == null) {
        publishedCounter = c = metrics.counter(StreamMetrics.PUBLISHED, stream, null);
      }
      c.increment();
    }
  }

  /** Streams this node has published to. */
  List<String> streams() {
    return List.copyOf(streams.keySet());
  }
}
