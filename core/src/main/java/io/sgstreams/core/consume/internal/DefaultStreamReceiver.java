package io.sgstreams.core.consume.internal;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.PendingEntry;
import io.micrometer.core.instrument.Gauge;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.util.RecentSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/**
 * See {@link StreamReceiver}. Per stream: a {@link GroupReader}, a {@link Claimer}, an
 * {@link OwnershipRenewer}, an {@link AckCommitter} and a {@link ConsumerJanitor}; one
 * {@link Budget} and one set of {@link HeldEntries} for all of them.
 */
public final class DefaultStreamReceiver implements StreamReceiver {
  private static final Logger log = LoggerFactory.getLogger(DefaultStreamReceiver.class);
  /** The idle-consumer check runs at most this often, and at least every quarter of the idle limit. */
  private static final Duration MAX_JANITOR_INTERVAL = Duration.ofMinutes(10);

  private final RedisEventBus bus;
  private final ReceiverOptions options;
  private final StreamMetrics metrics;
  private final Budget budget;
  private final HeldEntries held;
  private final Map<String, AckCommitter> ackers = new HashMap<>();
  /**
   * Ids this consumer acknowledged lately. A claim or history read can race with an XACK (the
   * entry was still pending when the claim or read ran, and its ack finished before the result
   * was emitted); such an entry is acknowledged again instead of being handled a second time.
   */
  private final RecentSet recentlyAcked;

  private final List<GroupReader> readers = new ArrayList<>();
  private final List<Claimer> claimers = new ArrayList<>();
  private final List<OwnershipRenewer> renewers = new ArrayList<>();
  private final List<ConsumerJanitor> janitors = new ArrayList<>();
  private final AtomicBoolean subscribed = new AtomicBoolean();
  private final AtomicBoolean completed = new AtomicBoolean();
  private volatile boolean stopping;
  private volatile FluxSink<Delivery> sink;
  private volatile Disposable claimTimer;
  private volatile Disposable.Composite keepers = Disposables.composite();

  public DefaultStreamReceiver(RedisEventBus bus, ReceiverOptions options) {
    this(bus, options, null, () -> {});
  }

  private static final io.sgstreams.core.redis.internal.RedisScript FENCED_ACK = new io.sgstreams.core.redis.internal.RedisScript(
      "fenced-xack", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
      local n = 0
      for i = 3, #ARGV, 1000 do
        n = n + redis.call('XACK', KEYS[2], ARGV[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
      end
      return n
      """, io.lettuce.core.ScriptOutputType.INTEGER);

  /**
   * With a {@code fence}, every XACK runs in a script that first checks the partition lease (same
   * slot): once the lease is gone nothing is acknowledged (the script answers -1, counted as 0);
   * the entries stay pending for the partition's new owner.
   */
  public DefaultStreamReceiver(RedisEventBus bus, ReceiverOptions options, io.sgstreams.core.consume.Fence fence,
      Runnable onFenced) {
    this(bus, options, fence, onFenced, false);
  }

  /**
   * With {@code channelLock}, new entries are read through {@link TicketedTurns#READ} (each gets a
   * ticket in its conversation's queue) and {@link #channelTurns()} orders conversations across
   * workers ({@code SG_ORDERING=channel-lock}); not with a {@code fence} (a leased partition has one reader).
   */
  public DefaultStreamReceiver(RedisEventBus bus, ReceiverOptions options, io.sgstreams.core.consume.Fence fence,
      Runnable onFenced, boolean channelLock) {
    if (channelLock && fence != null) {
      throw new IllegalArgumentException("channel-lock ordering is for shared assignment, not for a leased partition");
    }
    this.turns = channelLock ? new TicketedTurns(bus.connections(), this::parked) : null;
    this.fence = fence;
    this.onFenced = onFenced;
    this.bus = bus;
    // every stream's reader may block holding a slot: a receiver of many streams (partitions) gets at
    // least two slots per stream, so those of busy streams always find some (its Router's demand follows)
    int slots = options.streams().size() == 1 ? options.maxInFlight() : Math.max(options.maxInFlight(), 2 * options.streams().size());
    if (slots > options.maxInFlight()) {
      log.info("consumer {} reads {} streams: in-flight bound raised from {} to {} (two per stream)",
          options.consumer(), options.streams().size(), options.maxInFlight(), slots);
      options = options.withMaxInFlight(slots);
    }
    this.options = options;
    this.metrics = bus.metrics();
    this.budget = new Budget(options.maxInFlight());
    this.held = new HeldEntries(options.streams());
    this.recentlyAcked = RecentSet.lastN(Math.max(1024, options.maxInFlight() * 8));
    var async = bus.connections().async();
    for (String s : options.streams()) {
      AckCommitter.Xack xack = fence == null ? (st, g, ids) -> async.xack(st, g, ids) : (st, g, ids) -> {
        byte[][] argv = new byte[2 + ids.length][];
        argv[0] = io.sgstreams.core.redis.internal.RedisScript.arg(fence.token());
        argv[1] = io.sgstreams.core.redis.internal.RedisScript.arg(g);
        for (int i = 0; i < ids.length; i++) {
          argv[2 + i] = io.sgstreams.core.redis.internal.RedisScript.arg(ids[i]);
        }
        return FENCED_ACK.<Long>run(bus.connections(), new String[] {fence.leaseKey(), st}, argv)
            .map(n -> {
              if (n < 0) {
                log.warn("consumer {}: acknowledgement of {} entries on {} refused: the partition lease is gone; they stay "
                    + "pending for the partition's owner", this.options.consumer(), ids.length, st);
                onFenced.run();
                return 0L;
              }
              return n;
            }).toFuture();
      };
      ackers.put(s, new AckCommitter(xack, s, options.group(), options.ackBatch(), metrics::acked));
      readers.add(new GroupReader(this, s));
      claimers.add(new Claimer(this, s));
      renewers.add(new OwnershipRenewer(this, s));
      janitors.add(new ConsumerJanitor(this, s));
    }
    // a partition's receiver is made again each time its lease is taken: the gauge follows the latest one
    io.micrometer.core.instrument.Meter.Id id = new io.micrometer.core.instrument.Meter.Id(StreamMetrics.IN_FLIGHT,
        io.micrometer.core.instrument.Tags.of("stream", String.join(",", options.streams()), "group", options.group(),
            "consumer", options.consumer(), "role", metrics.role()), null, null, io.micrometer.core.instrument.Meter.Type.GAUGE);
    metrics.registry().remove(id);
    this.inFlightGauge = Gauge.builder(StreamMetrics.IN_FLIGHT, budget, Budget::inFlight)
        .tags(id.getTagsAsIterable())
        .register(metrics.registry());
  }

  private final Gauge inFlightGauge;
  /** The partition lease acks and dead letters are fenced by; null outside leased partitions. */
  private final io.sgstreams.core.consume.Fence fence;
  private final Runnable onFenced;

  private final TicketedTurns turns;

  /** Entries parked waiting for a turn elsewhere lend their slots to claims ({@link Budget#parked}). */
  private void parked(int delta) {
    budget.parked(delta);
    if (delta > 0) {
      pumpAll(); // a claim waiting for slots may go now
    }
  }

  @Override
  public io.sgstreams.core.consume.ChannelTurns channelTurns() {
    return turns;
  }

  /** The partition lease this receiver's reads, acks and dead letters are fenced by; null when none. */
  io.sgstreams.core.consume.Fence fence() {
    return fence;
  }

  /** The lease is gone (a fenced command was refused). */
  void fenced() {
    onFenced.run();
  }

  @Override
  public ReceiverOptions options() {
    return options;
  }

  @Override
  public int inFlight() {
    return budget.inFlight();
  }

  @Override
  public Flux<Delivery> receive() {
    return Flux.create(s -> {
      if (!subscribed.compareAndSet(false, true)) {
        s.error(new IllegalStateException("StreamReceiver supports one subscriber at a time"));
        return;
      }
      sink = s;
      stopping = false;
      completed.set(false);
      s.onRequest(n -> {
        budget.request(n);
        pumpAll();
      });
      s.onCancel(() -> {
        stop();
        stopKeepers();
        closeConnections();
      });
      s.onDispose(() -> subscribed.set(false));
      claimTimer = Flux.interval(options.claimInterval(), options.claimInterval())
          .onBackpressureDrop()
          .subscribe(t -> claimers.forEach(Claimer::tick));
      // renewal goes on while stopping: a draining handler keeps its entry until it is settled
      Disposable.Composite k = Disposables.composite();
      k.add(Flux.interval(options.renewInterval(), options.renewInterval())
          .onBackpressureDrop()
          .subscribe(t -> renewers.forEach(OwnershipRenewer::tick)));
      Duration janitorEvery = janitorInterval();
      k.add(Flux.interval(Duration.ofMillis(ThreadLocalRandom.current().nextLong(janitorEvery.toMillis() + 1)), janitorEvery)
          .onBackpressureDrop()
          .subscribe(t -> janitors.forEach(ConsumerJanitor::tick)));
      keepers = k;
      log.info("consumer {} reading {} as group {} (in flight <= {}, claim after {} idle, renew every {})",
          options.consumer(), options.streams(), options.group(), options.maxInFlight(), options.claimMinIdle(),
          options.renewInterval());
    }, FluxSink.OverflowStrategy.BUFFER);
  }

  private Duration janitorInterval() {
    Duration quarter = options.removeIdleConsumersAfter().dividedBy(4);
    if (quarter.compareTo(MAX_JANITOR_INTERVAL) > 0) {
      return MAX_JANITOR_INTERVAL;
    }
    return quarter.toMillis() < 100 ? Duration.ofMillis(100) : quarter;
  }

  @Override
  public void stop() {
    if (stopping) {
      return;
    }
    stopping = true;
    Disposable t = claimTimer;
    if (t != null) {
      t.dispose();
    }
    claimers.forEach(Claimer::cancelWait);
    readers.forEach(GroupReader::unblock);
    maybeComplete();
  }

  @Override
  public Mono<Void> close() {
    stop();
    return Mono.defer(() -> ackers.values().stream().allMatch(AckCommitter::idle)
            ? Mono.just(true) : Mono.<Boolean>empty())
        .repeatWhenEmpty(r -> r.delayElements(Duration.ofMillis(10)))
        .timeout(options.drainTimeout().plus(Duration.ofSeconds(1)), Mono.just(false))
        .doOnNext(done -> {
          if (!done) {
            log.warn("consumer {}: acknowledgements still in flight at close; those entries stay pending", options.consumer());
          }
          stopKeepers();
          closeConnections();
        })
        .then();
  }

  // ------------------------------------------------------------------ for the parts

  RedisEventBus bus() {
    return bus;
  }

  Budget budget() {
    return budget;
  }

  HeldEntries held() {
    return held;
  }

  StreamMetrics metrics() {
    return metrics;
  }

  boolean stopping() {
    return stopping;
  }

  /** Slots may be free: waiting claims first, then reads. */
  void pumpAll() {
    if (stopping) {
      return;
    }
    for (Claimer c : claimers) {
      if (c.waiting()) {
        c.resume();
      }
    }
    for (GroupReader r : readers) {
      r.pump();
    }
  }

  /** Readers other than {@code me} with no read outstanding: each is left one slot by {@code me}'s read. */
  int idleReadersOtherThan(GroupReader me) {
    int n = 0;
    for (GroupReader r : readers) {
      if (r != me && !r.busy.get()) {
        n++;
      }
    }
    return n;
  }

  void unblockReaders() {
    readers.forEach(GroupReader::unblock);
  }

  void maybeComplete() {
    if (!stopping || sink == null) {
      return;
    }
    for (GroupReader r : readers) {
      if (r.busy.get()) return;
    }
    for (Claimer c : claimers) {
      if (c.busy.get()) return;
    }
    if (completed.compareAndSet(false, true)) {
      sink.complete();
    }
  }

  /** Emits what was read or claimed; returns how many became deliveries. */
  int emit(String stream, List<Entry> entries, boolean redelivered) {
    int emitted = 0;
    List<String> trimmed = null;
    for (Entry e : entries) {
      if (e.body() == null || e.body().isEmpty()) {
        if (trimmed == null) {
          trimmed = new ArrayList<>();
        }
        trimmed.add(e.id());
        continue;
      }
      if (held.contains(stream, e.id())) {
        continue; // already being handled here (a re-read of our own pending list)
      }
      if (recentlyAcked.contains(stream, e.id())) {
        // settled here already, between the read or claim and now (a claim raced with the XACK,
        // or a read's reply was delayed while a claim of the same entry ran): keep it settled
        metrics.settledBeforeRedelivery(stream, options.group());
        ackers.get(stream).ack(e.id()).subscribe(v -> {}, err -> {});
        continue;
      }
      DefaultDelivery d = new DefaultDelivery(this, stream, e.id(), e.deliveryCount(), redelivered, e.body(), bus.codec());
      if (!held.add(d)) {
        continue;
      }
      emitted++;
      sink.next(d);
    }
    if (trimmed != null) {
      recordTrimmed(stream, trimmed, true);
    }
    if (emitted > 0) {
      metrics.consumed(stream, options.group(), emitted);
    }
    return emitted;
  }

  /**
   * Entries trimmed from the stream while still pending (their data is gone): counted, logged
   * once per batch, and recorded in the DLQ with {@code error=trimmed_before_handled}. Those
   * found by a read are still in this consumer's pending list and are acknowledged after the
   * record is written; those XAUTOCLAIM reports deleted are already out of it.
   */
  void recordTrimmed(String stream, List<String> ids, boolean acknowledge) {
    metrics.trimmed(stream, options.group(), ids.size());
    log.warn("{} entries on {} were trimmed before group {} handled them; their data is gone (recorded in {} as {}): {}",
        ids.size(), stream, options.group(), bus.topology().dlqFor(stream), DeadLetters.TRIMMED_BEFORE_HANDLED,
        ids.size() <= 10 ? ids : ids.subList(0, 10) + "…");
    Flux.fromIterable(ids)
        .concatMap(id -> DeadLetters.writeTrimmed(bus, stream, id, options.group(), options.consumer())
            .then(acknowledge ? ackers.get(stream).ack(id) : Mono.empty())
            .onErrorResume(e -> {
              log.warn("could not record trimmed entry {} of {}: {}", id, stream, e.toString());
              return Mono.empty();
            }))
        .subscribe();
  }

  /** The renewal found these held ids owned by another consumer now. */
  void lose(String stream, List<String> ids) {
    int n = 0;
    for (String id : ids) {
      DefaultDelivery d = held.get(stream, id);
      if (d != null && !d.settled()) {
        d.markLost();
        held.remove(d);
        n++;
      }
    }
    if (n > 0) {
      metrics.lost(stream, options.group(), n);
      log.warn("consumer {} lost {} entries on {} to another consumer (it did not renew them within {}); their results will be dropped",
          options.consumer(), n, stream, options.claimMinIdle());
    }
  }

  /** Delivery counts from the server's pending list for entries this consumer just got. */
  Mono<List<Entry>> withCounts(String stream, List<StreamMessage<String, byte[]>> msgs, long defaultCount) {
    if (msgs.isEmpty()) {
      return Mono.just(List.of());
    }
    String first = msgs.get(0).getId();
    String last = msgs.get(msgs.size() - 1).getId();
    return bus.pendingRange(stream, options.group(), options.consumer(), first, last, msgs.size() + (long) options.maxInFlight())
        .collectMap(PendingEntry::id, PendingEntry::deliveries)
        .map(counts -> {
          List<Entry> out = new ArrayList<>(msgs.size());
          for (StreamMessage<String, byte[]> m : msgs) {
            out.add(new Entry(m.getId(), m.getBody(), counts.getOrDefault(m.getId(), defaultCount)));
          }
          return out;
        });
  }

  // ------------------------------------------------------------------ called by deliveries

  Mono<Void> ackEntry(DefaultDelivery d) {
    return ackers.get(d.stream()).ack(d.id());
  }

  Mono<Void> deadLetterEntry(DefaultDelivery d, Throwable cause) {
    String dlq = bus.topology().dlqFor(d.stream());
    if (fence != null && bus.topology().partitioned() && bus.topology().partitionOfStream(dlq) == bus.topology().partitionOfStream(d.stream())) {
      // the DLQ entry and the XACK in one lease-fenced script (same partition, same slot)
      return bus.publishFieldsAndAck(dlq, DeadLetters.fields(d, cause), fence, d.stream(), d.group(), d.id())
          .doOnNext(dlqId -> {
            metrics.deadLettered(d.stream(), d.group());
            metrics.acked(d.stream(), d.group(), 1);
            log.warn("dead-lettered {} from {} (group {}, {} deliveries) as {}: {}",
                d.id(), d.stream(), d.group(), d.deliveryCount(), dlqId, DeadLetters.describe(cause));
          })
          .then();
    }
    return DeadLetters.write(bus, d, cause)
        .doOnNext(dlqId -> {
          metrics.deadLettered(d.stream(), d.group());
          log.warn("dead-lettered {} from {} (group {}, {} deliveries) as {}: {}",
              d.id(), d.stream(), d.group(), d.deliveryCount(), dlqId, DeadLetters.describe(cause));
        })
        .then(Mono.defer(() -> ackers.get(d.stream()).ack(d.id())));
  }

  /** {@code d} was acknowledged by a script of its own ({@link DefaultDelivery#ackWith}): counted like an XACK. */
  void ackedBy(DefaultDelivery d) {
    metrics.acked(d.stream(), options.group(), 1);
  }

  void settled(DefaultDelivery d) {
    budget.settled();
    pumpAll();
  }

  void acknowledged(DefaultDelivery d) {
    recentlyAcked.add(d.stream(), d.id());
  }

  void forget(DefaultDelivery d) {
    held.remove(d);
  }

  // ------------------------------------------------------------------ internals

  private void stopKeepers() {
    keepers.dispose();
  }

  private void closeConnections() {
    readers.forEach(GroupReader::closeConnection);
  }
}
