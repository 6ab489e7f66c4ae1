package io.sgstreams.core.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.BacklogReport;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.topology.StreamGroup;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Polls length, lag and pending of the watched (stream, group) pairs into gauges
 * ({@code sg_stream_length}, {@code sg_stream_lag}, {@code sg_stream_pending},
 * {@code sg_stream_backlog_eviction_risk}) and logs a warning when a group's unread backlog
 * nears the stream's cap. An unknown lag is reported as NaN, never as 0.
 */
public final class StreamMonitor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamMonitor.class);

  private final RedisEventBus bus;
  private final List<StreamGroup> watched;
  private final Map<StreamGroup, AtomicReference<BacklogReport>> latest = new ConcurrentHashMap<>();
  private final Map<StreamGroup, Boolean> warned = new ConcurrentHashMap<>();
  private volatile Disposable poller;

  public StreamMonitor(RedisEventBus bus, List<StreamGroup> watched) {
    this.bus = bus;
    this.watched = List.copyOf(watched);
    MeterRegistry r = bus.metrics().registry();
    for (StreamGroup g : this.watched) {
      AtomicReference<BacklogReport> ref = new AtomicReference<>();
      latest.put(g, ref);
      String role = bus.metrics().role();
      Gauge.builder(StreamMetrics.LENGTH, ref, x -> x.get() == null ? Double.NaN : x.get().length())
          .tag("stream", g.stream()).tag("group", g.group()).tag("role", role).register(r);
      Gauge.builder(StreamMetrics.LAG, ref, x -> x.get() == null || x.get().lag().isEmpty() ? Double.NaN : x.get().lag().getAsLong())
          .tag("stream", g.stream()).tag("group", g.group()).tag("role", role).register(r);
      Gauge.builder(StreamMetrics.PENDING, ref, x -> x.get() == null ? Double.NaN : x.get().pending())
          .tag("stream", g.stream()).tag("group", g.group()).tag("role", role).register(r);
      Gauge.builder(StreamMetrics.EVICTION_RISK, ref, x -> x.get() != null && x.get().atRisk() ? 1 : 0)
          .tag("stream", g.stream()).tag("group", g.group()).tag("role", role).register(r);
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

  /** One poll of every watched pair; the reports. */
  public Mono<List<BacklogReport>> refresh() {
    return Flux.fromIterable(watched)
        .concatMap(g -> bus.backlog(g.stream(), g.group())
            .doOnNext(rep -> record(g, rep))
            .onErrorResume(e -> Mono.empty()))
        .collectList();
  }

  /** The last report for each watched pair (absent until the first poll succeeds). */
  public Map<StreamGroup, BacklogReport> latest() {
    Map<StreamGroup, BacklogReport> out = new java.util.LinkedHashMap<>();
    latest.forEach((g, ref) -> {
      if (ref.get() != null) out.put(g, ref.get());
    });
    return out;
  }

  private void record(StreamGroup g, BacklogReport rep) {
    latest.get(g).set(rep);
    if (rep.atRisk()) {
      if (warned.put(g, true) == null) {
        log.warn("backlog of group {} on {} is {} entries, {}% of the stream cap {}: trimming will delete entries the group has not read",
            g.group(), g.stream(), rep.lag().getAsLong(), Math.round(rep.ratio() * 100), rep.maxLen());
      }
    } else if (warned.remove(g) != null) {
      log.info("backlog of group {} on {} is back under {}% of the cap", g.group(), g.stream(), Math.round(BacklogReport.RISK_RATIO * 100));
    }
  }

  @Override
  public void close() {
    Disposable p = poller;
    if (p != null) {
      p.dispose();
    }
  }
}
