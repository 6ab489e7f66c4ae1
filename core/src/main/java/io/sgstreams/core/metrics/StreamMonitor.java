package io.sgstreams.core.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.GroupInfo;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamState;
import io.sgstreams.core.bus.TrimPlan;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Polls the watched streams into gauges; every node runs one over the streams it touches.
 *
 * <p>Per stream: {@code sg_stream_length}, {@code sg_stream_backlog} (entries the slowest work
 * group has not finished) and {@code sg_stream_backlog_headroom} (entries until publishing is
 * refused), the last two on work streams only (NaN elsewhere). Per group, found as groups appear:
 * {@code sg_stream_lag} (NaN when Redis cannot tell, never 0), {@code sg_stream_pending},
 * {@code sg_stream_oldest_pending_seconds} (0 when nothing is pending). An observer group more
 * than a cap behind shows as lag near the cap and is counted when overtaken
 * ({@code sg_stream_observer_overtaken_total}); {@link #atRisk} tells it for the ops API.
 * Each poll also refreshes the bus's trimming plan of the stream.
 *
 * <p>With partitions ({@code P > 1}) every gauge also has a {@code partition} tag: the stream's partition
 * ({@code "0"}…), {@code "none"} on the streams without partitions (tools, tool replies); its {@code stream} tag is
 * the partition's key. Every gauge of a process then has the same tag keys (Micrometer and Prometheus need one
 * set per name), and a logical stream is {@code sum by (group) (max by (stream, group) (sg_stream_lag{…}))}. With
 * {@code P = 1} there is no {@code partition} tag: the series are what they always were.
 */
public final class StreamMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamMonitor.class);
  /** A group on a capped stream is at risk from this share of the cap. */
  public static final double RISK_RATIO = 0.8;
  /** How often nodes poll their streams. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  private record GroupKey(String stream, String group) {}

  private final RedisEventBus bus;
  private final List<String> streams;
  private final io.sgstreams.core.config.Topology topology;
  private final Map<String, AtomicReference<TrimPlan>> latest = new ConcurrentHashMap<>();
  private final Map<GroupKey, Boolean> groupGauges = new ConcurrentHashMap<>();
  private volatile Disposable poller;

  public StreamMonitor(RedisEventBus bus, List<String> streams) {
    this.bus = bus;
    this.streams = List.copyOf(streams);
    this.topology = bus.topology();
    MeterRegistry r = bus.metrics().registry();
    String role = bus.metrics().role();
    for (String s : this.streams) {
      AtomicReference<TrimPlan> ref = new AtomicReference<>();
      latest.put(s, ref);
      Gauge.builder(StreamMetrics.LENGTH, ref, x -> x.get() == null ? Double.NaN : x.get().state().length())
          .tags(tags(s)).tag("role", role).register(r);
      Gauge.builder(StreamMetrics.BACKLOG, ref, x -> x.get() == null || !x.get().isWorkStream() ? Double.NaN : x.get().backlog())
          .tags(tags(s)).tag("role", role).register(r);
      Gauge.builder(StreamMetrics.HEADROOM, ref, x -> x.get() == null || !x.get().isWorkStream() ? Double.NaN : x.get().headroom(0))
          .tags(tags(s)).tag("role", role).register(r);
    }
  }

  /** Polls every {@code interval} until closed. */
  public StreamMonitor start(Duration interval) {
    poller = Flux.interval(Duration.ZERO, interval)
        .onBackpressureDrop()
        .concatMap(t -> refresh().onErrorResume(e -> {
          log.debug("stream monitor poll failed: {}", e.toString());
          return Mono.empty();
        }))
        .subscribe();
    return this;
  }

  /** One poll of every watched stream; the plans read (streams that could not be read are left out). */
  public Mono<List<TrimPlan>> refresh() {
    return Flux.fromIterable(streams)
        .concatMap(s -> bus.retention(s)
            .doOnNext(this::record)
            .onErrorResume(e -> {
              log.debug("cannot read {}: {}", s, e.toString());
              return Mono.empty();
            }))
        .collectList();
  }

  /** The last reading of each watched stream (absent until its first poll succeeds). */
  public Map<String, TrimPlan> latest() {
    Map<String, TrimPlan> out = new LinkedHashMap<>();
    latest.forEach((s, ref) -> {
      if (ref.get() != null) out.put(s, ref.get());
    });
    return out;
  }

  private void record(TrimPlan plan) {
    String stream = plan.state().stream();
    latest.get(stream).set(plan);
    for (GroupInfo g : plan.state().groups()) {
      if (groupGauges.putIfAbsent(new GroupKey(stream, g.name()), Boolean.TRUE) == null) {
        register(stream, g.name());
      }
    }
  }

  private void register(String stream, String group) {
    MeterRegistry r = bus.metrics().registry();
    String role = bus.metrics().role();
    AtomicReference<TrimPlan> ref = latest.get(stream);
    Gauge.builder(StreamMetrics.LAG, ref, x -> {
          GroupInfo g = group(x.get(), group);
          return g == null || g.lag().isEmpty() ? Double.NaN : g.lag().getAsLong();
        })
        .tags(tags(stream)).tag("group", group).tag("role", role).register(r);
    Gauge.builder(StreamMetrics.PENDING, ref, x -> {
          GroupInfo g = group(x.get(), group);
          return g == null ? Double.NaN : g.pending();
        })
        .tags(tags(stream)).tag("group", group).tag("role", role).register(r);
    Gauge.builder(StreamMetrics.OLDEST_PENDING_AGE, ref, x -> {
          GroupInfo g = group(x.get(), group);
          if (g == null) {
            return Double.NaN;
          }
          OptionalLong age = x.get().state().oldestPendingAgeMillis(g);
          return age.isPresent() ? age.getAsLong() / 1000.0 : 0;
        })
        .baseUnit("seconds")
        .tags(tags(stream)).tag("group", group).tag("role", role).register(r);
  }

  /** {@code stream}, and with partitions {@code partition} ({@code "none"} for a stream without partitions). */
  io.micrometer.core.instrument.Tags tags(String stream) {
    return partitionTags(topology, stream);
  }

  /** The per-stream tags of {@link StreamMonitor}'s gauges in {@code topology}. */
  public static io.micrometer.core.instrument.Tags partitionTags(io.sgstreams.core.config.Topology topology, String stream) {
    io.micrometer.core.instrument.Tags t = io.micrometer.core.instrument.Tags.of("stream", stream);
    if (!topology.partitioned()) {
      return t;
    }
    int p = topology.partitionOfStream(stream);
    return t.and("partition", p < 0 ? "none" : Integer.toString(p));
  }

  /** Whether trimming may delete entries {@code group} has not handled. */
  public static boolean atRisk(TrimPlan plan, String group) {
    GroupInfo g = group(plan, group);
    if (g == null) {
      return false;
    }
    if (plan.overtaken().contains(group)) {
      return true;
    }
    boolean protectedByMinId = plan.isWorkStream();
    return !protectedByMinId && plan.state().unfinished(g) >= RISK_RATIO * plan.policy().cap();
  }

  private static GroupInfo group(TrimPlan plan, String name) {
    if (plan == null) {
      return null;
    }
    StreamState s = plan.state();
    for (GroupInfo g : s.groups()) {
      if (g.name().equals(name)) {
        return g;
      }
    }
    return null;
  }

  @Override
  public void close() {
    Disposable p = poller;
    if (p != null) {
      p.dispose();
    }
  }
}
