package io.sgstreams.journal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.HeartbeatRegistry.Heartbeat;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.consume.middleware.Middlewares;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.topology.StreamKeys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The journal consumer: reads the inbound stream, every platform's outbound stream and the DLQ
 * through its own consumer group ({@code journal.group}, default {@code sg:journal}) and writes
 * every entry to PostgreSQL — envelopes to {@code sg_journal}, dead letters to
 * {@code sg_dead_letters} — in batches, acknowledging an entry only after its row is committed.
 *
 * <ul>
 *   <li>Its group is an <em>observer</em> of the streams: it holds trimming back while it is less
 *       than a cap behind and never blocks delivery; past that it is overtaken, counted and logged
 *       by core (the entries it missed are the gap).
 *   <li>Rows are keyed by (stream, entry id): an entry delivered again (a claim after a crash, a
 *       restart) never duplicates a row.
 *   <li>Streamed progress ({@code delta}, {@code tool_call}) is acknowledged without a row: the
 *       final message carries the whole answer.
 *   <li>PostgreSQL down: writes are retried with backoff, entries stay pending (held by this
 *       consumer, renewed, so nobody claims them), reading stops at {@code max_in_flight}; when it
 *       is back everything is written once.
 * </ul>
 */
public final class Journal implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Journal.class);

  private final RedisEventBus bus;
  private final JournalStore store;
  private final Router router;
  private final BatchWriter<JournalRow> envelopes;
  private final BatchWriter<DeadLetterRow> deadLetters;
  private final Heartbeat heartbeat;
  private final List<String> streams;

  private Journal(RedisEventBus bus, JournalStore store, Router router, BatchWriter<JournalRow> envelopes,
      BatchWriter<DeadLetterRow> deadLetters, Heartbeat heartbeat, List<String> streams) {
    this.bus = bus;
    this.store = store;
    this.router = router;
    this.envelopes = envelopes;
    this.deadLetters = deadLetters;
    this.heartbeat = heartbeat;
    this.streams = streams;
  }

  /** The streams the journal reads: the inbound stream, each platform's outbound stream, the DLQ (every partition of each). */
  public static List<String> streams(Topology t) {
    List<String> out = new ArrayList<>();
    out.addAll(t.inboundStreams());
    t.platforms().forEach(p -> out.addAll(t.outboundStreams(p)));
    out.addAll(t.dlqStreams());
    return List.copyOf(out);
  }

  /** {@code journal-{node id}}: one per process, like every consumer name. */
  public static String consumerName(RedisEventBus bus) {
    return StreamKeys.requireSegment("journal-" + bus.config().nodeId());
  }

  /**
   * Connects, migrates the schema, creates the group on every stream (at the start of what each
   * retains) and starts consuming. Blocks until ready; fails when PostgreSQL is unreachable.
   */
  public static Journal start(RedisEventBus bus, JournalStore store, MeterRegistry registry) {
    JournalConfig c = bus.config().journal();
    List<Integer> applied = store.migrate().block(Duration.ofSeconds(60));
    if (applied != null && !applied.isEmpty()) {
      log.info("journal: schema migrated to V{} on {}", applied.get(applied.size() - 1), store.describe());
    }
    List<String> streams = streams(bus.topology());
    String consumer = consumerName(bus);
    Heartbeat heartbeat = bus.heartbeats().register(consumer)
        .block(bus.heartbeats().ttl().multipliedBy(2).plus(Duration.ofSeconds(30)));
    Flux.fromIterable(streams).concatMap(s -> bus.ensureGroup(s, c.group())).then().block(Duration.ofSeconds(30));

    int parallel = Math.max(1, c.poolSize() - 1);
    BatchWriter<JournalRow> envelopes = new BatchWriter<>("envelopes", store::insertJournal, c.batchSize(),
        c.flushInterval(), parallel, c.retryMax());
    BatchWriter<DeadLetterRow> deadLetters = new BatchWriter<>("dead-letters", store::insertDeadLetters, c.batchSize(),
        c.flushInterval(), 1, c.retryMax());
    Counter rows = Counter.builder("sg.journal.rows").description("entries journaled (rows committed or already there)")
        .register(registry);
    Counter skipped = Counter.builder("sg.journal.skipped")
        .description("entries acknowledged without a row (streamed deltas and progress events)").register(registry);
    Gauge.builder("sg.journal.waiting", () -> envelopes.waiting() + deadLetters.waiting())
        .description("entries read and waiting for their batch to be committed").register(registry);
    Gauge.builder("sg.journal.write.failures", () -> envelopes.failures() + deadLetters.failures())
        .description("batch writes that failed and were retried").register(registry);

    Topology topology = bus.topology();
    ReceiverOptions opts = ReceiverOptions.of(streams.get(0), c.group(), consumer, bus.config().consumer())
        .withStreams(streams)
        .withMaxInFlight(c.maxInFlight())
        .withReadCount(Math.min(c.batchSize(), c.maxInFlight()));
    Router router = Router.createUnordered(StreamReceiver.create(bus, opts), bus, bus.metrics(),
        (Delivery d) -> {
          if (topology.isDlq(d.stream())) {
            return deadLetters.submit(DeadLetterRow.of(d)).doOnSuccess(v -> rows.increment()).thenReturn(HandlerResult.none());
          }
          if (d.decodeError().isEmpty() && d.envelope() instanceof OutboundEnvelope o && o.isProgress()) {
            skipped.increment();
            return Mono.just(HandlerResult.none());
          }
          return envelopes.submit(JournalRow.of(d)).doOnSuccess(v -> rows.increment()).thenReturn(HandlerResult.none());
        },
        List.of(Middlewares.metrics(bus.metrics())));
    router.start();
    Journal j = new Journal(bus, store, router, envelopes, deadLetters, heartbeat, streams);
    heartbeat.whenLost().subscribe(v -> {
      log.error("journal {}: another process took this consumer name; the journal consumer stops at once", consumer);
      router.shutdown(Duration.ZERO).subscribe(x -> {}, x -> {});
    });
    log.info("journal: {} reads {} through group {} into {}", consumer, streams, c.group(), store.describe());
    return j;
  }

  public JournalStore store() {
    return store;
  }

  public List<String> streams() {
    return streams;
  }

  /** Ready: the database answers. */
  public Mono<Boolean> ready() {
    return store.ping().onErrorReturn(false);
  }

  /** Stops reading, lets what was read be written (up to the drain timeout), leaves the rest pending. */
  public Mono<Void> shutdown() {
    return router.shutdown()
        .then(Mono.fromRunnable(() -> {
          envelopes.close();
          deadLetters.close();
        }))
        .then(Mono.delay(Duration.ofMillis(100)).then())
        .doFinally(s -> {
          envelopes.dispose();
          deadLetters.dispose();
          heartbeat.close();
        });
  }

  @Override
  public void close() {
    shutdown().block(bus.config().consumer().drainTimeout().plusSeconds(10));
  }
}
