package io.sgstreams.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline's meters. Names follow Prometheus conventions once exported
 * ({@code sg.messages.published} becomes {@code sg_messages_published_total}); tags are
 * low-cardinality: stream, group, role, never ids.
 */
public final class StreamMetrics {
  public static final String PUBLISHED = "sg.messages.published";
  public static final String PUBLISH_FAILED = "sg.messages.publish.failed";
  public static final String CONSUMED = "sg.messages.consumed";
  public static final String ACKED = "sg.messages.acked";
  public static final String FAILED = "sg.messages.failed";
  public static final String DEAD_LETTERED = "sg.messages.dead.lettered";
  public static final String RECLAIMED = "sg.messages.reclaimed";
  public static final String TRIMMED = "sg.messages.trimmed.before.ack";
  /** Publishes refused because a work stream's unfinished backlog reached its cap. */
  public static final String REFUSED = "sg.messages.refused";
  /** Entries this consumer was handling when another consumer took them over (it had stalled). */
  public static final String LOST = "sg.deliveries.lost";
  /** Entries re-read or claimed after this consumer had acknowledged them (settled again, not handled). */
  public static final String SETTLED_BEFORE_REDELIVERY = "sg.deliveries.settled.before.redelivery";
  /** Renewals of the entries a consumer holds ({@code XCLAIM … JUSTID}, count of ids). */
  public static final String RENEWED = "sg.deliveries.renewed";
  /** Times an observer group fell more than a cap behind and trimming stopped waiting for it. */
  public static final String OBSERVER_OVERTAKEN = "sg.stream.observer.overtaken";
  /** Consumers removed from a group after being idle with nothing pending. */
  public static final String CONSUMERS_REMOVED = "sg.consumers.removed";
  public static final String HANDLER_LATENCY = "sg.handler";
  public static final String END_TO_END = "sg.end.to.end";
  public static final String LENGTH = "sg.stream.length";
  public static final String LAG = "sg.stream.lag";
  public static final String PENDING = "sg.stream.pending";
  public static final String HEADROOM = "sg.stream.backlog.headroom";
  public static final String BACKLOG = "sg.stream.backlog";
  public static final String OLDEST_PENDING_AGE = "sg.stream.oldest.pending";
  public static final String IN_FLIGHT = "sg.consumer.in.flight";

  private final MeterRegistry registry;
  private final String role;
  /** Cache key: records hash the names' cached String hashes, no concatenation per call. */
  private record Key(String name, String stream, String group) {}

  private final Map<Key, Counter> counters = new ConcurrentHashMap<>();
  private final Map<Key, Timer> timers = new ConcurrentHashMap<>();

  public StreamMetrics(MeterRegistry registry, String role) {
    this.registry = registry;
    this.role = role;
  }

  /** For code and tests that don't export metrics. */
  public static StreamMetrics noop() {
    return new StreamMetrics(new SimpleMeterRegistry(), "none");
  }

  public MeterRegistry registry() {
    return registry;
  }

  public String role() {
    return role;
  }

  public void published(String stream) {
    counter(PUBLISHED, stream, null).increment();
  }

  public void publishFailed(String stream) {
    counter(PUBLISH_FAILED, stream, null).increment();
  }

  public void consumed(String stream, String group, int n) {
    counter(CONSUMED, stream, group).increment(n);
  }

  public void acked(String stream, String group, int n) {
    counter(ACKED, stream, group).increment(n);
  }

  public void failed(String stream, String group) {
    counter(FAILED, stream, group).increment();
  }

  public void deadLettered(String stream, String group) {
    counter(DEAD_LETTERED, stream, group).increment();
  }

  public void reclaimed(String stream, String group, int n) {
    counter(RECLAIMED, stream, group).increment(n);
  }

  /** Entries that were trimmed from the stream while still pending: their data is gone. */
  public void trimmed(String stream, String group, int n) {
    counter(TRIMMED, stream, group).increment(n);
  }

  public void refused(String stream) {
    counter(REFUSED, stream, null).increment();
  }

  public void lost(String stream, String group, int n) {
    counter(LOST, stream, group).increment(n);
  }

  public void settledBeforeRedelivery(String stream, String group) {
    counter(SETTLED_BEFORE_REDELIVERY, stream, group).increment();
  }

  public void renewed(String stream, String group, int n) {
    counter(RENEWED, stream, group).increment(n);
  }

  public void observerOvertaken(String stream, String group) {
    counter(OBSERVER_OVERTAKEN, stream, group).increment();
  }

  public void consumersRemoved(String stream, String group, int n) {
    counter(CONSUMERS_REMOVED, stream, group).increment(n);
  }

  public void handlerLatency(String stream, String group, long nanos) {
    timer(HANDLER_LATENCY, stream, group).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** From the envelope's {@code enqueued_at} to now. */
  public void endToEnd(String stream, String group, long enqueuedAtMillis) {
    long ms = System.currentTimeMillis() - enqueuedAtMillis;
    if (ms >= 0) {
      timer(END_TO_END, stream, group).record(Duration.ofMillis(ms));
    }
  }

  public Counter counter(String name, String stream, String group) {
    Key key = new Key(name, stream, group);
    Counter c = counters.get(key);
    if (c == null) {
      c = counters.computeIfAbsent(key, k -> {
        Counter.Builder b = Counter.builder(name).tag("stream", stream).tag("role", role);
        if (group != null) {
          b.tag("group", group);
        }
        return b.register(registry);
      });
    }
    return c;
  }

  private Timer timer(String name, String stream, String group) {
    Key key = new Key(name, stream, group);
    Timer t = timers.get(key);
    if (t == null) {
      t = timers.computeIfAbsent(key, k -> Timer.builder(name)
          .tag("stream", stream).tag("group", group).tag("role", role)
          .publishPercentileHistogram()
          .minimumExpectedValue(Duration.ofNanos(100_000))
          .maximumExpectedValue(Duration.ofSeconds(60))
          .register(registry));
    }
    return t;
  }
}
