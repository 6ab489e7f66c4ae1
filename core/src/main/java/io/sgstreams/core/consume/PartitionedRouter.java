package io.sgstreams.core.consume;

import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.partition.PartitionLeases;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * A worker's share of a partitioned stream ({@code SG_PARTITION_ASSIGNMENT=lease}): one
 * {@link Router} per partition it holds a lease on, so exactly one worker reads each partition
 * and every conversation (which lives on one partition) is handled in order across pods.
 *
 * <p>Every tick ({@code min(TTL/3, 1 s)}) the worker marks itself live, renews its leases and moves
 * towards its fair share {@code ceil(P / live workers)}: it takes free partitions (starting at an
 * offset of its own, so workers spread) and gives surplus ones back <em>after draining</em> their
 * Router. A partition it takes is adopted first: every entry pending in the group on that
 * partition ({@code XAUTOCLAIM … 0 JUSTID}, delivery counts untouched) becomes its own, so its
 * Router handles them in id order before reading new ones. Replies to the partition and acks are
 * fenced by the lease ({@link Fence}); a lease found lost stops its Router at once.
 */
public final class PartitionedRouter {
  private static final Logger log = LoggerFactory.getLogger(PartitionedRouter.class);
  private static final int ADOPT_BATCH = 1000;

  /** Builds the Router of one partition from its receiver and its fenced reply publisher. */
  @FunctionalInterface
  public interface Factory {
    Router create(StreamReceiver receiver, ReplyPublisher publisher);
  }

  /** What happened to a lease, for logs, tests and the ops page. */
  public record LeaseEvent(String type, int partition, String token, long atMillis) {}

  /**
   * A partition this worker holds a lease on, from the acquisition (renewed from then on, also while
   * its pending entries are adopted) until the lease is released or lost. {@code router} is set once
   * the partition runs.
   */
  private static final class Owned {
    final int partition;
    final Fence fence;
    volatile Router router;
    final java.util.concurrent.atomic.AtomicLong renewedAtNanos = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
    final AtomicBoolean renewing = new AtomicBoolean();
    volatile boolean gone;

    Owned(int partition, Fence fence) {
      this.partition = partition;
      this.fence = fence;
    }
  }

  private final RedisEventBus bus;
  private final ReceiverOptions base;
  private final PartitionLeases leases;
  private final Factory factory;
  private final int partitions;
  private final Duration tick;
  private final Map<Integer, Owned> owned = new ConcurrentHashMap<>();
  private final Set<Integer> releasing = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean ticking = new AtomicBoolean();
  private final AtomicBoolean renewing = new AtomicBoolean();
  /** Hand-backs in progress (drain, then release), awaited by {@link #shutdown}. */
  private final Map<Integer, Mono<Void>> handingBack = new ConcurrentHashMap<>();
  /** Routers of lost leases still stopping: their partition is not taken again before. */
  private final Map<Integer, Mono<Void>> stopping = new ConcurrentHashMap<>();
  /** Most partitions taken at once in one balancing step. */
  private static final int ACQUIRE_CONCURRENCY = 8;
  private final List<Consumer<LeaseEvent>> listeners = new CopyOnWriteArrayList<>();
  private final Sinks.Empty<Void> finished = Sinks.empty();
  private volatile boolean stopped;
  private volatile Disposable timer;
  private volatile long live = 1;

  public PartitionedRouter(RedisEventBus bus, ReceiverOptions base, Duration leaseTtl, Factory factory) {
    this.bus = bus;
    this.base = base;
    this.factory = factory;
    this.partitions = bus.topology().partitions();
    this.leases = new PartitionLeases(bus, base.group(), base.consumer(), leaseTtl);
    Duration third = leaseTtl.dividedBy(3);
    this.tick = third.compareTo(Duration.ofSeconds(1)) < 0 ? third : Duration.ofSeconds(1);
  }

  /** Told of every lease acquired, renewed-lost, released. */
  public PartitionedRouter onLeaseEvent(Consumer<LeaseEvent> l) {
    listeners.add(l);
    return this;
  }

  public PartitionLeases leases() {
    return leases;
  }

  /** Starts taking partitions; returns at once. */
  public synchronized PartitionedRouter start() {
    if (timer != null) {
      throw new IllegalStateException("already started");
    }
    timer = Flux.interval(Duration.ZERO, tick, Schedulers.parallel()).subscribe(t -> tick());
    return this;
  }

  /** The partitions this worker reads now, ascending. */
  public List<Integer> owned() {
    return owned.values().stream().filter(o -> o.router != null).map(o -> o.partition).sorted().toList();
  }

  /** How many workers were live at the last tick. */
  public long liveWorkers() {
    return live;
  }

  /** Entries in flight over every owned partition. */
  public int inFlight() {
    return owned.values().stream().filter(o -> o.router != null).mapToInt(o -> o.router.receiver().inFlight()).sum();
  }

  /** Between {@link #start()} and {@link #shutdown}. */
  public boolean running() {
    return timer != null && !stopped;
  }

  public Mono<Void> whenFinished() {
    return finished.asMono();
  }

  /**
   * Renewal and balancing run apart: every held lease is renewed each tick, each on its own (one
   * slow master delays only its own partitions' renewals), whatever the live-set heartbeat or an
   * adoption does; a lease whose last successful renewal is older than the TTL is given up at once,
   * its Router stopped. Renewal goes on while {@link #shutdown} drains; balancing stops.
   */
  private void tick() {
    long now = System.nanoTime();
    long ttl = leases.ttl().toNanos();
    for (Owned o : new ArrayList<>(owned.values())) {
      if (now - o.renewedAtNanos.get() > ttl) {
        lost(o, "not renewed within the TTL");
      } else if (o.renewing.compareAndSet(false, true)) {
        long sent = System.nanoTime();
        leases.renew(o.fence)
            .timeout(Duration.ofNanos(Math.max(1, ttl - (sent - o.renewedAtNanos.get()))))
            .doFinally(x -> o.renewing.set(false))
            .subscribe(ok -> {
              if (ok) {
                o.renewedAtNanos.accumulateAndGet(sent, Math::max);
              } else if (!releasing.contains(o.partition)) {
                lost(o, "taken or expired");
              }
            }, e -> log.debug("consumer {}: renewing partition {} failed: {}", base.consumer(), o.partition, e.toString()));
      }
    }
    if (!stopped && ticking.compareAndSet(false, true)) {
      leases.heartbeat()
          .doOnNext(n -> live = n)
          .flatMap(n -> rebalance(n))
          .doFinally(x -> ticking.set(false))
          .subscribe(v -> {}, e -> log.warn("consumer {}: partition balancing failed: {}", base.consumer(), e.toString()));
    }
  }

  /** A fenced command of partition {@code p} was refused: its lease is gone, stop its Router now. */
  private void fenced(int p, Fence f) {
    Owned o = owned.get(p);
    if (o != null && o.fence.equals(f)) {
      lost(o, "a fenced command was refused");
    }
  }

  private void lost(Owned o, String why) {
    if (!o.gone && owned.remove(o.partition, o)) {
      o.gone = true;
      log.warn("consumer {}: lease on partition {} lost ({}); its Router stops now, its entries stay pending for the new owner",
          base.consumer(), o.partition, why);
      emit("lost", o.partition, o.fence.token());
      Router r = o.router;
      if (r != null) {
        // taken again only once this Router has finished (no handler of the old lease still running)
        Mono<Void> m = r.shutdown(Duration.ZERO).onErrorResume(e -> Mono.empty()).cache();
        stopping.put(o.partition, m);
        m.doFinally(x -> stopping.remove(o.partition, m)).subscribe(v -> {}, e -> {});
      }
    }
  }

  private Mono<Void> rebalance(long liveWorkers) {
    if (stopped) {
      return Mono.empty();
    }
    int share = PartitionLeases.fairShare(partitions, liveWorkers);
    int held = (int) owned.keySet().stream().filter(p -> !releasing.contains(p)).count();
    if (held > share) {
      List<Owned> surplus = owned.values().stream()
          .filter(o -> !releasing.contains(o.partition) && o.router != null)
          .sorted(Comparator.comparingInt((Owned o) -> o.partition).reversed())
          .limit(held - share)
          .toList();
      surplus.forEach(o -> handBack(o, bus.config().consumer().drainTimeout()).subscribe(v -> {}, e -> {}));
      return Mono.empty();
    }
    if (held == share) {
      return Mono.empty();
    }
    int offset = Math.floorMod(base.consumer().hashCode(), partitions);
    List<Integer> candidates = new ArrayList<>();
    for (int i = 0; i < partitions; i++) {
      int p = (offset + i) % partitions;
      if (!owned.containsKey(p) && !releasing.contains(p) && !stopping.containsKey(p)) {
        candidates.add(p);
      }
    }
    // leases taken one after another until the share is reached (one round trip each, cheap), each taken
    // partition adopted in parallel with the next acquisitions (a first worker of many partitions must
    // not need longer than a TTL to start them all)
    java.util.concurrent.atomic.AtomicInteger want = new java.util.concurrent.atomic.AtomicInteger(share - held);
    return Flux.fromIterable(candidates)
        .concatMap(p -> stopped || want.get() <= 0 ? Mono.<Owned>empty()
            : leases.acquire(p)
                .doOnNext(f -> want.decrementAndGet())
                .map(f -> {
                  Owned o = new Owned(p, f); // renewed from now on, while it is adopted too
                  owned.put(p, o);
                  return o;
                })
                .onErrorResume(e -> {
                  log.warn("consumer {}: could not take partition {}: {}", base.consumer(), p, e.toString());
                  return Mono.empty();
                }))
        .flatMap(this::adopt, ACQUIRE_CONCURRENCY)
        .then();
  }

  /** The partition is ours: take over its pending entries, then start its Router. */
  private Mono<Void> adopt(Owned o) {
    int p = o.partition;
    Fence fence = o.fence;
    String stream = bus.topology().inboundStream(p);
    long start = System.currentTimeMillis();
    return bus.ensureGroup(stream, base.group())
        .then(claimAll(stream, fence, "0-0", 0))
        .map(n -> {
          if (o.gone || stopped) {
            return n; // lost, handed back or shutting down while adopting: nothing to start
          }
          // entries a stalled former owner read after losing the lease are pending under its name: claimed
          // after at most a lease TTL rather than the general claim_min_idle (our own are renewed every third)
          ReceiverOptions opts = base.withStreams(List.of(stream)).withClaim(
              base.claimMinIdle().compareTo(leases.ttl()) < 0 ? base.claimMinIdle() : leases.ttl(), base.claimInterval());
          StreamReceiver receiver = StreamReceiver.create(bus, opts, fence, () -> fenced(p, fence));
          ReplyPublisher publisher = new FencedPublisher(p, fence);
          Router router = factory.create(receiver, publisher);
          synchronized (o) {
            if (o.gone) {
              return n;
            }
            o.router = router;
            router.start();
          }
          log.info("consumer {}: partition {} ({}) acquired, lease {}, {} pending entries adopted in {} ms",
              base.consumer(), p, stream, fence.token(), n, System.currentTimeMillis() - start);
          emit("acquired", p, fence.token());
          return n;
        })
        .onErrorResume(e -> {
          log.warn("consumer {}: could not start partition {} after taking its lease; giving it back: {}",
              base.consumer(), p, e.toString());
          owned.remove(p, o);
          o.gone = true;
          Router r = o.router;
          Mono<Void> stop = r == null ? Mono.empty() : r.shutdown(Duration.ZERO).onErrorResume(x -> Mono.empty());
          return stop.then(leases.release(fence).onErrorResume(x -> Mono.just(false))).thenReturn(0L);
        })
        .then();
  }

  /**
   * Replies of one leased partition: those to the partition's own keys (same hash tag) are fenced by
   * the lease, and a result's last reply is written together with the inbound entry's ack in one
   * script; replies elsewhere (a tool request, another conversation's stream) are published as usual.
   */
  private final class FencedPublisher implements ReplyPublisher.Acking {
    private final int partition;
    private final Fence fence;

    private final RedisEventBus.ReplyAcks replyAcks;

    FencedPublisher(int partition, Fence fence) {
      this.partition = partition;
      this.fence = fence;
      this.replyAcks = bus.fencedReplies(fence);
    }

    /** A key with this partition's tag (same slot as the lease); with {@code P = 1} nothing is tagged, nothing fenced. */
    private boolean local(String stream) {
      return bus.topology().partitioned() && bus.topology().partitionOfStream(stream) == partition;
    }

    @Override
    public Mono<String> publish(Reply reply) {
      return Mono.defer(() -> {
        String target = bus.streamFor(reply, partition);
        return local(target)
            ? bus.publishFenced(target, reply.envelope(), fence).doOnError(e -> {
              if (Fence.isFenced(e)) {
                fenced(partition, fence);
              }
            })
            : bus.publish(target, reply.envelope());
      });
    }

    @Override
    public boolean acksWith(Reply reply, Delivery d) {
      return local(bus.streamFor(reply, partition)) && local(d.stream());
    }

    @Override
    public Mono<Void> publishAndAck(Reply reply, Delivery d) {
      return Mono.defer(() -> replyAcks.publishAndAck(bus.streamFor(reply, partition), reply.envelope(), d.stream(),
          d.group(), d.id())).doOnError(e -> {
            if (Fence.isFenced(e)) {
              fenced(partition, fence);
            }
          }).then();
    }
  }

  private static final RedisScript FENCED_CLAIM = new RedisScript("fenced-xautoclaim", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
      end
      return redis.call('XAUTOCLAIM', KEYS[2], ARGV[2], ARGV[3], 0, ARGV[4], 'COUNT', ARGV[5], 'JUSTID')
      """, io.lettuce.core.ScriptOutputType.MULTI);

  /**
   * {@code XAUTOCLAIM … min-idle 0 … JUSTID} until the cursor wraps, each batch in a script that first
   * checks the lease: every pending entry of the group on {@code stream} becomes ours, and a lease lost
   * meanwhile stops it (it would take the new owner's entries from under it).
   */
  private Mono<Long> claimAll(String stream, Fence fence, String cursor, long sofar) {
    return FENCED_CLAIM.<List<Object>>run(bus.connections(), new String[] {fence.leaseKey(), stream},
            RedisScript.arg(fence.token()), RedisScript.arg(base.group()), RedisScript.arg(base.consumer()),
            RedisScript.arg(cursor), RedisScript.arg(ADOPT_BATCH))
        .flatMap(reply -> {
          String next = RedisScript.text(reply.get(0));
          long n = sofar + ((List<?>) reply.get(1)).size();
          Mono<Long> more = next == null || "0-0".equals(next) ? Mono.just(n) : claimAll(stream, fence, next, n);
          if (reply.size() > 2 && reply.get(2) instanceof List<?> deleted && !deleted.isEmpty()) {
            // trimmed while pending: out of the pending list now, recorded like the Claimer does
            List<String> ids = deleted.stream().map(RedisScript::text).toList();
            log.warn("{} entries on {} were trimmed before group {} handled them; their data is gone (recorded in the DLQ): {}",
                ids.size(), stream, base.group(), ids.size() <= 10 ? ids : ids.subList(0, 10) + "…");
            return Flux.fromIterable(ids)
                .flatMap(id -> DeadLetters.writeTrimmed(bus, stream, id, base.group(), base.consumer()).onErrorResume(e -> Mono.empty()), 16)
                .then(more);
          }
          return more;
        });
  }

  /** Drains the partition's Router, then gives the lease back so the next owner starts at once. */
  private Mono<Void> handBack(Owned o, Duration drain) {
    if (!releasing.add(o.partition)) {
      Mono<Void> running = handingBack.get(o.partition);
      return running == null ? Mono.empty() : running;
    }
    Router r;
    synchronized (o) {
      o.gone = true; // an adoption still running does not start it now
      r = o.router;
    }
    Mono<Void> m = (r == null ? Mono.<Void>empty() : r.shutdown(drain))
        .then(leases.release(o.fence).onErrorResume(e -> Mono.just(false)))
        .doOnNext(ok -> {
          log.info("consumer {}: partition {} handed back (lease {}{})", base.consumer(), o.partition, o.fence.token(),
              ok ? "" : ", already gone");
          emit("released", o.partition, o.fence.token());
        })
        .doFinally(s -> {
          owned.remove(o.partition, o);
          releasing.remove(o.partition);
          handingBack.remove(o.partition);
        })
        .then()
        .cache();
    handingBack.put(o.partition, m);
    return m;
  }

  private void emit(String type, int p, String token) {
    LeaseEvent ev = new LeaseEvent(type, p, token, System.currentTimeMillis());
    for (Consumer<LeaseEvent> l : listeners) {
      try {
        l.accept(ev);
      } catch (RuntimeException e) {
        log.warn("lease listener failed", e);
      }
    }
  }

  /**
   * Stops taking partitions, drains every owned partition's Router (up to {@code drainTimeout}),
   * gives every lease back and leaves the live set, so other workers take over within a tick.
   */
  public Mono<Void> shutdown(Duration drainTimeout) {
    return Mono.defer(() -> {
      if (stopped) {
        return finished.asMono();
      }
      stopped = true; // no more balancing; the timer keeps renewing the leases while their Routers drain
      return Mono.delay(Duration.ofMillis(20)).thenMany(waitForTick())
          .thenMany(Flux.fromIterable(new ArrayList<>(owned.values())).flatMap(o -> handBack(o, drainTimeout)))
          .thenMany(Flux.fromIterable(new ArrayList<>(handingBack.values())).flatMap(m -> m.onErrorResume(e -> Mono.empty())))
          .thenMany(Flux.fromIterable(new ArrayList<>(stopping.values())).flatMap(m -> m.onErrorResume(e -> Mono.empty())))
          .then(leases.leave().onErrorResume(e -> Mono.empty()))
          .doFinally(s -> {
            Disposable t = timer;
            if (t != null) {
              t.dispose();
            }
            finished.tryEmitEmpty();
          });
    });
  }

  private Mono<Void> waitForTick() {
    return Mono.defer(() -> ticking.get() ? Mono.delay(Duration.ofMillis(20)).then(waitForTick()) : Mono.empty())
        .timeout(Duration.ofSeconds(10), Mono.empty());
  }
}
