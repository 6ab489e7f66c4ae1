package io.sgstreams.gateway.history;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.GroupInfo;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamState;
import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.gateway.fanout.ChannelHistory;
import io.sgstreams.gateway.fanout.ReplyEvent;
import io.sgstreams.journal.Cursor;
import io.sgstreams.journal.Journal;
import io.sgstreams.journal.JournalRow;
import io.sgstreams.journal.JournalStore;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * The gateway's journal: runs the {@link Journal} consumer and answers from its tables (the
 * history API, and resumes older than the streams retain). PostgreSQL is never in the gateway's
 * way: the journal's group is created on the streams at once (so it holds trimming back from the
 * start), but the consumer starts in the background and keeps retrying while the database is
 * unreachable; the API answers {@code journal_unavailable} meanwhile, and messages flow as
 * always.
 */
public final class JournalLink implements ChannelHistory.Archive, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JournalLink.class);

  private final RedisEventBus bus;
  private final JournalStore store;
  private final String group;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile Journal journal;
  private final Disposable starting;

  private JournalLink(RedisEventBus bus, JournalStore store, MeterRegistry registry) {
    this.bus = bus;
    this.store = store;
    this.group = bus.config().journal().group();
    Gauge.builder("sg.journal.running", () -> journal == null ? 0 : 1)
        .description("1 when this process's journal consumer runs (0: starting, or PostgreSQL unreachable at start)")
        .register(registry);
    this.starting = Mono.fromCallable(() -> Journal.start(bus, store, registry))
        .subscribeOn(Schedulers.boundedElastic())
        .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(30))
            .filter(e -> !closed.get())
            .doBeforeRetry(s -> log.warn("journal: cannot start on {} (attempt {}), retrying: {}", store.describe(),
                s.totalRetries() + 1, s.failure().toString())))
        .subscribe(j -> {
          if (closed.get()) {
            j.close();
          } else {
            journal = j;
          }
        }, e -> log.error("journal: gave up starting: {}", e.toString()));
  }

  /**
   * The journal of a gateway, or empty when it is off ({@code SG_JOURNAL=off}, or {@code auto}
   * without {@code POSTGRES_URL}).
   *
   * @throws io.sgstreams.core.config.ConfigException when {@code SG_JOURNAL=on} and {@code POSTGRES_URL} is unset
   */
  public static Optional<JournalLink> start(RedisEventBus bus, MeterRegistry registry) {
    JournalConfig c = bus.config().journal();
    c.requireUrlUnlessStandalone(false);
    if (c.mode() == JournalConfig.Mode.OFF || c.postgresUrl().isEmpty()) {
      log.info("journal: off ({}={}{})", io.sgstreams.core.config.ConfigSchema.Journal.MODE.env(), c.mode().wire(),
          c.postgresUrl().isEmpty() ? ", POSTGRES_URL unset" : "");
      return Optional.empty();
    }
    // the observer group first: from now on nothing is trimmed before the journal has it (up to the cap)
    Flux.fromIterable(Journal.streams(bus.topology())).concatMap(s -> bus.ensureGroup(s, c.group())).then()
        .block(Duration.ofSeconds(30));
    return Optional.of(new JournalLink(bus, JournalStore.connect(c.postgresUrl().get(), c.poolSize()), registry));
  }

  public JournalStore store() {
    return store;
  }

  /** Whether the consumer runs (it started: the database was reachable once). */
  public boolean running() {
    return journal != null;
  }

  /** A conversation's page, newest first. */
  public Flux<JournalRow> history(String tenant, String platform, String channel, Cursor before, int limit) {
    return store.conversation(tenant, platform, channel, before, limit);
  }

  @Override
  public Flux<ReplyEvent> after(String stream, String tenant, String platform, String channel, String afterId, int limit) {
    return store.after(stream, tenant, platform, channel, afterId, limit)
        .handle((row, sink) -> {
          try {
            if (bus.codec().decode(row.data()) instanceof OutboundEnvelope o) {
              sink.next(new ReplyEvent(row.stream(), row.entryId(), o));
            }
          } catch (RuntimeException e) {
            // not an envelope: nobody's reply
          }
        });
  }

  @Override
  public Mono<Boolean> coversBefore(String stream, String id) {
    return bus.streamState(stream).map(state -> covers(state, group, id));
  }

  /** The journal's group has acknowledged every entry before {@code id}: its oldest needed entry is at or past it. */
  static boolean covers(StreamState state, String group, String id) {
    for (GroupInfo g : state.groups()) {
      if (g.name().equals(group)) {
        return EntryIds.compare(state.oldestNeeded(g), id) >= 0;
      }
    }
    return false;
  }

  /** Stops the consumer (what it read is written, up to the drain timeout) and closes the pool. */
  public Mono<Void> shutdown() {
    return Mono.defer(() -> {
      closed.set(true);
      starting.dispose();
      Journal j = journal;
      return (j == null ? Mono.<Void>empty() : j.shutdown())
          .onErrorResume(e -> {
            log.warn("journal: did not stop cleanly: {}", e.toString());
            return Mono.empty();
          })
          .then(Mono.defer(store::closeLater))
          .onErrorResume(e -> Mono.empty());
    });
  }

  @Override
  public void close() {
    shutdown().block(Duration.ofSeconds(60));
  }
}
