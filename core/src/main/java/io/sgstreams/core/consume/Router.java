package io.sgstreams.core.consume;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.internal.KeyedSerializer;
import io.sgstreams.core.consume.middleware.Middlewares;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.trace.LogContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Runs a handler over a receiver: the consumer engine every node uses.
 *
 * <ul>
 *   <li>Up to {@code maxInFlight} entries at once; entries of the same conversation (tenant,
 *       platform, channel_id) one at a time, in stream order.
 *   <li>A delivery is acknowledged only after its handler succeeded and every reply was
 *       published.
 *   <li>An undecodable entry, one delivered more than {@code maxDeliveries} times, or one whose
 *       handler failed permanently or on its last allowed delivery is dead-lettered (DLQ entry
 *       first, then XACK). Other failures leave it pending: it is claimed again once idle.
 *   <li>A delivery whose entry another consumer took over while it ran ({@link Delivery#lost()}:
 *       this consumer stalled past {@code claim_min_idle}) has its handler cancelled and its result
 *       dropped, unpublished and unacknowledged: the new owner answers it.
 *   <li>{@link #shutdown()} stops reading, waits for in-flight handlers up to the drain
 *       timeout, lets their acknowledgements finish, and leaves the rest pending.
 * </ul>
 *
 * <p>It needs no Redis of its own: a {@link StreamReceiver}, a {@link ReplyPublisher} and the
 * metrics, so it is unit-tested with fakes of both.
 */
public final class Router {
  private static final Logger log = LoggerFactory.getLogger(Router.class);

  private final StreamReceiver receiver;
  private final ReplyPublisher publisher;
  private final Handler handler;
  private final ReceiverOptions options;
  private final StreamMetrics metrics;
  private final KeyedSerializer<OrderKey> serializer = new KeyedSerializer<>();
  private final boolean ordered;
  /** SG_ORDERING=channel-lock: conversations ordered across workers (replaces the in-pod serializer). */
  private final ChannelGate gate;
  private final Sinks.Empty<Void> finished = Sinks.empty();
  private volatile Loop running;
  private volatile boolean done;


  private Router(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics, Handler handler,
      List<Middleware> defaults, List<Middleware> chain) {
    this(receiver, publisher, metrics, handler, defaults, chain, true);
  }

  private Router(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics, Handler handler,
      List<Middleware> defaults, List<Middleware> chain, boolean ordered) {
    this.ordered = ordered;
    this.receiver = receiver;
    this.publisher = publisher;
    List<Middleware> all = new java.util.ArrayList<>(defaults);
    all.addAll(chain);
    this.handler = Middleware.chain(handler, all);
    this.options = receiver.options();
    this.metrics = metrics;
    ChannelTurns turns = ordered ? receiver.channelTurns() : null;
    this.gate = turns == null ? null : new ChannelGate(turns, () -> {
      Loop l = running;
      if (l != null && !l.isDisposed()) {
        l.request(1); // a parked entry lends its slot to claims: one more may come
      }
    });
  }

  /**
   * A Router with the default middlewares ({@link Middlewares#defaults}: metrics, undecodable
   * entries and the delivery limit dead-lettered, permanent and last-delivery failures
   * dead-lettered) outermost, then {@code chain}, then {@code handler}.
   */
  public static Router create(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics, Handler handler,
      List<Middleware> chain) {
    return create(receiver, publisher, metrics, handler, chain, DeadLetterReplies.NONE);
  }

  /** As above, telling the client with {@code replies} when its entry is dead-lettered. */
  public static Router create(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics, Handler handler,
      List<Middleware> chain, DeadLetterReplies replies) {
    return new Router(receiver, publisher, metrics, handler,
        Middlewares.defaults(receiver.options().maxDeliveries(), metrics, replies), List.copyOf(chain));
  }

  /**
   * A Router with exactly {@code chain} around {@code handler}: no default middleware (reorder or
   * replace them with {@link Middlewares}). Without a dead-letter middleware, every failure is
   * retried through redelivery, and undecodable entries reach the handler.
   */
  public static Router createWithoutDefaults(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics,
      Handler handler, List<Middleware> chain) {
    return new Router(receiver, publisher, metrics, handler, List.of(), List.copyOf(chain));
  }

  /**
   * Like {@link #createWithoutDefaults} but without per-conversation order: every delivery runs as
   * soon as a slot is free. For handlers whose effects commute, such as the journal's (rows keyed
   * by entry id), where ordering would hold a busy conversation to one entry per write.
   */
  public static Router createUnordered(StreamReceiver receiver, ReplyPublisher publisher, StreamMetrics metrics,
      Handler handler, List<Middleware> chain) {
    return new Router(receiver, publisher, metrics, handler, List.of(), List.copyOf(chain), false);
  }

  public static Router create(StreamReceiver receiver, RedisEventBus bus, Handler handler, List<Middleware> chain) {
    return create(receiver, bus, bus.metrics(), handler, chain);
  }

  public static Router create(RedisEventBus bus, ReceiverOptions options, Handler handler, Middleware... chain) {
    return create(StreamReceiver.create(bus, options), bus, handler, List.of(chain));
  }

  public StreamReceiver receiver() {
    return receiver;
  }

  /** Starts consuming; returns at once. */
  public synchronized Router start() {
    if (running != null) {
      throw new IllegalStateException("router already started");
    }
    Loop loop = new Loop();
    running = loop;
    receiver.receive().subscribe(loop);
    return this;
  }

  /**
   * Keeps up to {@code maxInFlight} deliveries in progress and asks for one more each time one
   * finishes. (A {@code flatMap} does the same but rescans all its inner subscribers on every
   * completion, which showed as the top hotspot under load.)
   */
  private final class Loop extends BaseSubscriber<Delivery> {
    private final AtomicInteger active = new AtomicInteger();
    /**
     * The handlers running or waiting, for {@link #abort()}: a concurrent set, not Reactor's
     * list-backed composite, whose remove scanned a linked list of up to {@code maxInFlight}
     * entries once per message.
     */
    private final java.util.Set<Disposable> inner = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean aborted;
    private volatile boolean upstreamDone;

    @Override
    protected void hookOnSubscribe(Subscription s) {
      s.request(options.maxInFlight());
    }

    @Override
    protected void hookOnNext(Delivery d) {
      active.incrementAndGet();
      Disposable[] self = new Disposable[1];
      Mono<Void> work = gate != null
          ? gate.submit(receiver.channelTurns().conversation(d), d, () -> process(d))
          : serializer.submit(ordered ? orderKey(d) : null, () -> process(d));
      self[0] = work
          .doFinally(sig -> {
            if (self[0] != null) {
              inner.remove(self[0]);
            }
            finishedOne();
          })
          .subscribe(v -> {}, e -> {
            try (var ctx = logContext(d)) {
              log.error("consumer {}: unexpected error processing {}", options.consumer(), d, e);
            }
          });
      inner.add(self[0]);
      if (self[0].isDisposed()) {
        inner.remove(self[0]); // it finished on another thread before it was added
      } else if (aborted) {
        inner.remove(self[0]);
        self[0].dispose(); // added while abort() was disposing the others
      }
    }

    private void finishedOne() {
      if (active.decrementAndGet() == 0 && upstreamDone) {
        end();
      } else if (!upstreamDone) {
        request(1);
      }
    }

    @Override
    protected void hookOnComplete() {
      upstreamDone = true;
      if (active.get() == 0) {
        end();
      }
    }

    @Override
    protected void hookOnError(Throwable e) {
      log.error("consumer {} stopped on an unexpected error", options.consumer(), e);
      hookOnComplete();
    }

    /**
     * Drain timeout: cancel reading and every handler still running or waiting (their entries
     * stay pending). Explicit, because after {@code stop()} the receive Flux has usually
     * completed already and a plain {@code dispose()} would no longer reach the handlers.
     */
    void abort() {
      upstreamDone = true;
      aborted = true;
      cancel();
      for (Disposable x : inner) {
        x.dispose();
      }
      inner.clear();
      end();
    }

    private void end() {
      done = true;
      finished.tryEmitEmpty();
    }
  }

  /** Starts consuming and completes when the router has shut down. */
  public Mono<Void> run() {
    return Mono.defer(() -> {
      start();
      return finished.asMono();
    }).doOnCancel(() -> shutdown().subscribe());
  }

  /** True between {@link #start()} and the end of its run: the consumer loop is alive. */
  public boolean running() {
    Disposable r = running;
    return r != null && !r.isDisposed() && !done;
  }

  /** Completes once the router has stopped (after {@link #shutdown()}). */
  public Mono<Void> whenFinished() {
    return finished.asMono();
  }

  /**
   * Graceful stop: no new reads, in-flight handlers get up to the drain timeout, what finished is
   * acknowledged, the rest stays pending for another consumer (or this one after a restart).
   */
  public Mono<Void> shutdown() {
    return shutdown(options.drainTimeout());
  }

  public Mono<Void> shutdown(Duration drainTimeout) {
    return Mono.defer(() -> {
      receiver.stop();
      if (gate != null) {
        gate.stop(); // entries waiting for their turn stay pending, tickets kept
      }
      if (running == null) {
        finished.tryEmitEmpty();
        return receiver.close();
      }
      return finished.asMono()
          .timeout(drainTimeout)
          .onErrorResume(TimeoutException.class, e -> {
            log.warn("consumer {}: {} entries still in flight after the {} drain; they stay pending",
                options.consumer(), receiver.inFlight(), drainTimeout);
            running.abort();
            return Mono.empty();
          })
          .then(receiver.close());
    });
  }

  /** A conversation: entries with equal keys run one at a time, in stream order. */
  record OrderKey(String tenant, String platform, String channelId) {}

  /** Per-conversation order: (tenant, platform, channel_id); other kinds are unordered. */
  static OrderKey orderKey(Delivery d) {
    if (d.decodeError().isPresent()) {
      return null;
    }
    Envelope e = d.envelope();
    if (e.platform() == null || e.channelId() == null) {
      return null;
    }
    return new OrderKey(e.tenant(), e.platform(), e.channelId());
  }

  private Mono<Void> process(Delivery delivery) {
    RoutedDelivery d = new RoutedDelivery(delivery, publisher);
    return Mono.defer(() -> handler.handle(d))
        .takeUntilOther(d.whenLost())
        // what the handler emitted while it ran is written before its final replies
        .flatMap(result -> d.emitted().then(Mono.defer(() -> d.lost() || d.settled() ? Mono.<Void>empty() : publishReplies(result, d))))
        .then(Mono.defer(d::emitted))
        .then(Mono.fromCallable(() -> !d.lost()))
        .onErrorResume(e -> d.lost() ? Mono.just(false) : onFailure(d, e).then(Mono.just(false)))
        .flatMap(ok -> {
          if (!ok) {
            if (d.lost()) {
              try (var ctx = logContext(d)) {
                log.warn("{} on {} was taken over by another consumer while it was handled here; this result is dropped",
                    d.id(), d.stream());
              }
              d.release();
            }
            return Mono.empty();
          }
          Reply last = d.deferredFinal;
          if (last != null && !d.settled()) {
            // the last reply and the ack in one command (a lease-fenced script): never answered twice
            return settle(d.ackWith(((ReplyPublisher.Acking) publisher).publishAndAck(last, d)), d);
          }
          return settle(d.ack(), d); // a middleware that dead-lettered it settled it already: ack() returns that
        });
  }

  /**
   * The MDC fields of a log line about {@code d} (trace, correlation, tenant, node), set around
   * the statement only: the handling hops threads.
   */
  static LogContext logContext(Delivery d) {
    if (d.decodeError().isPresent()) {
      return LogContext.of(d.traceId().isEmpty() ? null : d.traceId(), null, null);
    }
    return LogContext.of(d.envelope());
  }

  /** A failure no middleware settled: the entry stays pending and is claimed again once idle. */
  private Mono<Void> onFailure(Delivery d, Throwable e) {
    if (d.settled()) {
      return Mono.empty();
    }
    try (var ctx = logContext(d)) {
      log.warn("handler failed for {} on {} (delivery {} of {}); it stays pending and is retried after {}: {}",
          d.id(), d.stream(), d.deliveryCount(), options.maxDeliveries(), options.claimMinIdle(), e.toString());
    }
    d.release();
    return Mono.empty();
  }

  /** An ack or dead-letter that fails leaves the entry pending; the consumer goes on. */
  private Mono<Void> settle(Mono<Void> op, Delivery d) {
    return op.onErrorResume(e -> {
      try (var ctx = logContext(d)) {
        log.warn("could not settle {} on {}; it stays pending and will be redelivered: {}", d.id(), d.stream(), e.toString());
      }
      return Mono.empty();
    });
  }

  private Mono<Void> publishReplies(HandlerResult result, RoutedDelivery d) {
    if (result == null || result.replies().isEmpty()) {
      return Mono.empty();
    }
    List<Reply> replies = result.replies();
    Reply last = replies.get(replies.size() - 1);
    if (publisher instanceof ReplyPublisher.Acking a && a.acksWith(last, d)) {
      d.deferredFinal = last; // written with the ack
      replies = replies.subList(0, replies.size() - 1);
    }
    if (replies.isEmpty()) {
      return Mono.empty();
    }
    if (replies.size() == 1) {
      return publisher.publish(replies.get(0)).then();
    }
    return Flux.fromIterable(replies).concatMap(publisher::publish).then();
  }
}
