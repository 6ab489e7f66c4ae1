package io.sgstreams.core.consume.internal;

import io.lettuce.core.Consumer;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.UnblockType;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.models.stream.PendingMessage;
import io.micrometer.core.instrument.Gauge;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.redis.RedisErrors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;

/** See {@link StreamReceiver}. One {@link Reader} and one {@link Claimer} per stream share a {@link Budget}. */
public final class DefaultStreamReceiver implements StreamReceiver {
  private static final Logger log = LoggerFactory.getLogger(DefaultStreamReceiver.class);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** One pending entry as read or claimed, before it becomes a {@link Delivery}. */
  private record Entry(String id, Map<String, byte[]> body, long deliveryCount) {}

  private final RedisEventBus bus;
  private final ReceiverOptions options;
  private final StreamMetrics metrics;
  private final Budget budget;
  private final Map<String, AckCommitter> ackers = new HashMap<>();
  private final Set<String> inFlightIds = ConcurrentHashMap.newKeySet();
  /**
   * Ids this consumer acknowledged lately. A claim or history read can race with an XACK (the
   * entry was still pending when the claim or read ran, and its ack finished before the result
   * was emitted); such an entry is acknowledged again instead of being handled a second time.
   */
  private final RecentIds recentlyAcked;
  private final List<Reader> readers = new ArrayList<>();
  private final List<Claimer> claimers = new ArrayList<>();
  private final AtomicBoolean subscribed = new AtomicBoolean();
  private final AtomicBoolean completed = new AtomicBoolean();
  private volatile boolean stopping;
  private volatile FluxSink<Delivery> sink;
  private volatile Disposable claimTimer;

  public DefaultStreamReceiver(RedisEventBus bus, ReceiverOptions options) {
    this.bus = bus;
    this.options = options;
    this.metrics = bus.metrics();
    this.budget = new Budget(options.maxInFlight());
    this.recentlyAcked = new RecentIds(Math.max(1024, options.maxInFlight() * 8));
    for (String s : options.streams()) {
      ackers.put(s, new AckCommitter(bus.redis().async(), s, options.group(), options.ackBatch(), metrics));
      readers.add(new Reader(s));
      claimers.add(new Claimer(s));
    }
    Gauge.builder(StreamMetrics.IN_FLIGHT, budget, Budget::inFlight)
        .tag("stream", String.join(",", options.streams()))
        .tag("group", options.group())
        .tag("consumer", options.consumer())
        .tag("role", metrics.role())
        .register(metrics.registry());
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
        closeConnections();
      });
      s.onDispose(() -> subscribed.set(false));
      claimTimer = Flux.interval(options.claimInterval(), options.claimInterval())
          .onBackpressureDrop()
          .subscribe(t -> claimers.forEach(Claimer::tick));
      log.info("consumer {} reading {} as group {} (in flight <= {}, claim after {} idle)",
          options.consumer(), options.streams(), options.group(), options.maxInFlight(), options.claimMinIdle());
    }, FluxSink.OverflowStrategy.BUFFER);
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
    readers.forEach(Reader::unblock);
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
          closeConnections();
        })
        .then();
  }

  // ------------------------------------------------------------------ called by deliveries

  Mono<Void> ackEntry(DefaultDelivery d) {
    return ackers.get(d.stream()).ack(d.id());
  }

  Mono<Void> deadLetterEntry(DefaultDelivery d, Throwable cause) {
    return DeadLetters.write(bus, d, cause)
        .doOnNext(dlqId -> {
          metrics.deadLettered(d.stream(), d.group());
          log.warn("dead-lettered {} from {} (group {}, {} deliveries) as {}: {}",
              d.id(), d.stream(), d.group(), d.deliveryCount(), dlqId, DeadLetters.describe(cause));
        })
        .then(Mono.defer(() -> ackers.get(d.stream()).ack(d.id())));
  }

  void settled(DefaultDelivery d) {
    budget.settled();
    pumpAll();
  }

  void acknowledged(DefaultDelivery d) {
    recentlyAcked.add(key(d.stream(), d.id()));
  }

  void forget(DefaultDelivery d) {
    inFlightIds.remove(key(d.stream(), d.id()));
  }

  // ------------------------------------------------------------------ internals

  private void pumpAll() {
    if (!stopping) {
      for (Reader r : readers) {
        r.pump();
      }
    }
  }

  private void maybeComplete() {
    if (!stopping || sink == null) {
      return;
    }
    for (Reader r : readers) {
      if (r.busy.get()) return;
    }
    for (Claimer c : claimers) {
      if (c.busy.get()) return;
    }
    if (completed.compareAndSet(false, true)) {
      sink.complete();
    }
  }

  private void closeConnections() {
    readers.forEach(Reader::closeConnection);
  }

  private static String key(String stream, String id) {
    return stream + ' ' + id;
  }

  /** Emits what was read or claimed; returns how many became deliveries. */
  private int emit(String stream, List<Entry> entries, boolean redelivered) {
    int emitted = 0;
    for (Entry e : entries) {
      if (e.body() == null || e.body().isEmpty()) {
        // deleted by trimming while pending: nothing to handle, drop it from the pending list
        metrics.trimmed(stream, options.group(), 1);
        log.warn("entry {} on {} was trimmed before group {} acknowledged it; its data is gone",
            e.id(), stream, options.group());
        ackers.get(stream).ack(e.id()).subscribe(v -> {}, err -> {});
        continue;
      }
      String k = key(stream, e.id());
      if (redelivered && recentlyAcked.contains(k)) {
        ackers.get(stream).ack(e.id()).subscribe(v -> {}, err -> {}); // settled already: make sure it stays so
        continue;
      }
      if (!inFlightIds.add(k)) {
        continue; // already being handled by this consumer
      }
      DefaultDelivery d = new DefaultDelivery(this, stream, e.id(), e.deliveryCount(), redelivered, e.body(), bus.codec());
      emitted++;
      sink.next(d);
    }
    if (emitted > 0) {
      metrics.consumed(stream, options.group(), emitted);
    }
    return emitted;
  }

  /** Delivery counts from the server's pending list for entries this consumer just got. */
  private Mono<List<Entry>> withCounts(String stream, List<StreamMessage<String, byte[]>> msgs, long defaultCount) {
    if (msgs.isEmpty()) {
      return Mono.just(List.of());
    }
    String first = msgs.get(0).getId();
    String last = msgs.get(msgs.size() - 1).getId();
    return bus.pendingRange(stream, options.group(), options.consumer(), first, last, msgs.size() + (long) options.maxInFlight())
        .collectMap(PendingMessage::getId, PendingMessage::getRedeliveryCount)
        .map(counts -> {
          List<Entry> out = new ArrayList<>(msgs.size());
          for (StreamMessage<String, byte[]> m : msgs) {
            out.add(new Entry(m.getId(), m.getBody(), counts.getOrDefault(m.getId(), defaultCount)));
          }
          return out;
        });
  }

  /** Blocking XREADGROUP on a connection of its own: own pending entries first, then new ones. */
  private final class Reader {
    final String stream;
    final AtomicBoolean busy = new AtomicBoolean();
    volatile StatefulRedisConnection<String, byte[]> conn;
    volatile Long clientId;
    volatile boolean backingOff;
    boolean history = true;
    String historyCursor = "0";
    int failures;

    Reader(String stream) {
      this.stream = stream;
    }

    void pump() {
      if (stopping || backingOff || !busy.compareAndSet(false, true)) {
        return;
      }
      int n = budget.reserve(options.readCount());
      if (n == 0) {
        busy.set(false);
        if (!stopping && budget.hasRoom()) {
          pump(); // demand arrived between reserve and busy.set(false)
        } else {
          maybeComplete();
        }
        return;
      }
      connection().flatMap(c -> read(c, n)).subscribe(entries -> onBatch(n, entries), e -> onError(n, e));
    }

    private Mono<StatefulRedisConnection<String, byte[]>> connection() {
      StatefulRedisConnection<String, byte[]> c = conn;
      if (c != null && c.isOpen()) {
        return Mono.just(c);
      }
      return bus.redis().dedicated(options.readBlock())
          .flatMap(nc -> nc.reactive().clientId().doOnNext(id -> clientId = id).thenReturn(nc)
              .doOnError(e -> nc.closeAsync()))
          .doOnNext(nc -> conn = nc);
    }

    private Mono<List<Entry>> read(StatefulRedisConnection<String, byte[]> c, int n) {
      // async, not reactive: a reactive command allocates a publisher, a queue and a collector
      // per call, and at low rates every message costs one blocking read
      Consumer<String> me = Consumer.from(options.group(), options.consumer());
      if (history) {
        return Mono.fromCompletionStage(() -> c.async()
                .xreadgroup(me, XReadArgs.Builder.count(n), XReadArgs.StreamOffset.from(stream, historyCursor)))
            .flatMap(msgs -> withCounts(stream, msgs, 1));
      }
      return Mono.fromCompletionStage(() -> c.async()
              .xreadgroup(me, XReadArgs.Builder.count(n).block(options.readBlock()), XReadArgs.StreamOffset.lastConsumed(stream)))
          .map(msgs -> {
            List<Entry> out = new ArrayList<>(msgs.size());
            for (StreamMessage<String, byte[]> m : msgs) {
              out.add(new Entry(m.getId(), m.getBody(), 1));
            }
            return out;
          })
          .defaultIfEmpty(List.of());
    }

    private void onBatch(int reserved, List<Entry> entries) {
      if (failures > 0) {
        log.info("consumer {} reading {} again after {} failed attempts", options.consumer(), stream, failures);
        failures = 0;
      }
      boolean wasHistory = history;
      if (history) {
        if (entries.isEmpty()) {
          history = false;
        } else {
          historyCursor = entries.get(entries.size() - 1).id();
        }
      }
      int emitted = emit(stream, entries, wasHistory);
      budget.unreserve(reserved - emitted);
      busy.set(false);
      if (stopping) {
        maybeComplete();
      } else {
        pump();
      }
    }

    private void onError(int reserved, Throwable e) {
      budget.unreserve(reserved);
      if (RedisErrors.isNoGroup(e) && !stopping) {
        log.warn("group {} on {} is missing; recreating it at 0", options.group(), stream);
        bus.ensureGroup(stream, options.group()).subscribe(
            created -> {
              history = true;
              historyCursor = "0";
              busy.set(false);
              pump();
            },
            err -> backOff(err));
        return;
      }
      backOff(e);
    }

    private void backOff(Throwable e) {
      failures++;
      closeConnection();
      history = true;
      historyCursor = "0";
      Duration pause = RedisErrors.backoff(failures - 1, FIRST_BACKOFF, MAX_BACKOFF);
      if (failures == 1 || failures % 20 == 0) {
        log.warn("consumer {} cannot read {} (attempt {}), retrying in {} ms: {}",
            options.consumer(), stream, failures, pause.toMillis(), e.toString());
      }
      backingOff = true;
      busy.set(false);
      if (stopping) {
        maybeComplete();
        return;
      }
      Mono.delay(pause).subscribe(t -> {
        backingOff = false;
        pump();
      });
    }

    void unblock() {
      Long id = clientId;
      if (busy.get() && id != null) {
        bus.redis().commands().clientUnblock(id, UnblockType.TIMEOUT).subscribe(v -> {}, e -> {});
      }
    }

    void closeConnection() {
      StatefulRedisConnection<String, byte[]> c = conn;
      conn = null;
      clientId = null;
      if (c != null) {
        c.closeAsync();
      }
    }
  }

  /** XAUTOCLAIM of entries idle past the threshold, within the shared in-flight budget. */
  private final class Claimer {
    final String stream;
    final AtomicBoolean busy = new AtomicBoolean();
    volatile String cursor = "0-0";

    Claimer(String stream) {
      this.stream = stream;
    }

    void tick() {
      if (stopping || !busy.compareAndSet(false, true)) {
        return;
      }
      int n = budget.reserve(options.readCount());
      if (n == 0) {
        busy.set(false);
        maybeComplete();
        return;
      }
      Consumer<String> me = Consumer.from(options.group(), options.consumer());
      bus.redis().commands()
          .xautoclaim(stream, XAutoClaimArgs.Builder.xautoclaim(me, options.claimMinIdle(), cursor).count(n))
          .flatMap(claimed -> {
            cursor = claimed.getId() == null ? "0-0" : claimed.getId();
            return withCounts(stream, claimed.getMessages(), 2);
          })
          .subscribe(entries -> {
            int emitted = emit(stream, entries, true);
            budget.unreserve(n - emitted);
            if (emitted > 0) {
              metrics.reclaimed(stream, options.group(), emitted);
              log.info("consumer {} claimed {} entries idle over {} on {}", options.consumer(), emitted, options.claimMinIdle(), stream);
            }
            busy.set(false);
            if (entries.size() == n && !stopping) {
              tick(); // a full batch: more are probably waiting
            } else {
              maybeComplete();
            }
          }, e -> {
            budget.unreserve(n);
            busy.set(false);
            if (RedisErrors.isNoGroup(e)) {
              bus.ensureGroup(stream, options.group()).subscribe(v -> {}, err -> {});
            } else {
              log.debug("claim on {} failed: {}", stream, e.toString());
            }
            maybeComplete();
          });
    }
  }
}
