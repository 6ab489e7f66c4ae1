package io.sgstreams.gateway.fanout;

import io.sgstreams.core.util.RecentSet;
import io.sgstreams.core.util.Timeouts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.gateway.http.ApiError;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * In-process fan-out of the replies the node's tail readers see: to the POST waiting for that
 * inbound id (of the same tenant), and to every SSE / WebSocket subscriber of that conversation
 * (tenant, platform, channel): a reply never reaches a caller of another tenant. A reply without
 * {@code tenant_id} (a foreign worker) belongs to tenant {@code default}. Every queue is
 * bounded: a subscriber that falls {@link #SUBSCRIBER_QUEUE} replies behind is disconnected with
 * {@link SlowConsumerException}; at most {@code maxWaiting} requests wait at once. A waiting
 * request is completed by the first reply that is not progress ({@code delta}, {@code tool_call}).
 */
public final class ReplyHub {
  public static final int SUBSCRIBER_QUEUE = 256;

  private record Waiting(String tenant, Sinks.One<ReplyEvent> sink) {}

  /** Per inbound id: the original request and any retries of it (same Idempotency-Key) wait for the same reply. */
  private final Map<String, Set<Waiting>> waiters = new ConcurrentHashMap<>();
  private final Map<ChannelKey, Set<Subscriber>> channels = new ConcurrentHashMap<>();
  /** Most reply keys kept for duplicate suppression (32 bytes each: 16 MB when full). */
  public static final int MAX_DEDUP_KEYS = 500_000;
  /** How long duplicate suppression remembers a reply when none is configured. */
  public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofMinutes(6);

  private final RecentSet recent;
  private final AtomicInteger waiting = new AtomicInteger();
  private final int maxWaiting;
  private final Counter toWaiters;
  private final Counter toSubscribers;
  private final Counter duplicates;

  public ReplyHub(MeterRegistry registry, int maxWaiting) {
    this(registry, maxWaiting, DEFAULT_DEDUP_WINDOW, MAX_DEDUP_KEYS);
  }

  /**
   * @param dedupWindow how long a reply's key is remembered: longer than the time a redelivered
   *     request can take to be answered again ({@code claim_min_idle × max_deliveries} + margin)
   */
  public ReplyHub(MeterRegistry registry, int maxWaiting, Duration dedupWindow, int maxDedupKeys) {
    this.maxWaiting = maxWaiting;
    this.recent = RecentSet.within(dedupWindow, maxDedupKeys);
    Gauge.builder("sg.gateway.dedup.keys", recent, RecentSet::size).register(registry);
    Gauge.builder("sg.gateway.dedup.evicted.early", recent, RecentSet::evictedEarly).register(registry);
    this.toWaiters = Counter.builder("sg.gateway.replies.fanned.out").tag("target", "waiting_request").register(registry);
    this.toSubscribers = Counter.builder("sg.gateway.replies.fanned.out").tag("target", "subscriber").register(registry);
    this.duplicates = Counter.builder("sg.gateway.replies.duplicate").register(registry);
    Gauge.builder("sg.gateway.waiting.requests", waiting, AtomicInteger::get).register(registry);
  }

  /**
   * Called by the tail readers for every outbound entry, in stream order; false for a duplicate
   * (already dispatched), which reaches nobody.
   */
  public boolean dispatch(ReplyEvent e) {
    OutboundEnvelope o = e.reply();
    if (!recent.add(o.inReplyTo(), o.messageKey())) {
      duplicates.increment();
      return false;
    }
    Set<Waiting> ws = waiters.get(o.inReplyTo());
    // a waiting POST gets the answer, not the deltas and tool-call events on the way to it
    if (ws != null && !o.isProgress()) {
      for (Waiting w : ws) {
        if (w.tenant().equals(o.tenant()) && w.sink().tryEmitValue(e).isSuccess()) {
          toWaiters.increment();
        }
      }
    }
    Set<Subscriber> subs = channels.get(new ChannelKey(o.tenant(), o.platform(), o.channelId()));
    if (subs != null) {
      for (Subscriber s : subs) {
        s.offer(e);
        toSubscribers.increment();
      }
    }
    return true;
  }

  /**
   * Registers a wait for the reply to inbound {@code id} before it is published (so the reply
   * cannot be missed); the Mono gives the reply, or empty after {@code timeout}. Fails with 503
   * when too many requests wait already.
   */
  public Waiter await(String tenant, String inboundId) {
    if (waiting.incrementAndGet() > maxWaiting) {
      waiting.decrementAndGet();
      throw new ApiError(503, "too_many_waiting", "too many requests are waiting for replies; retry without ?wait or later");
    }
    Waiting w = new Waiting(tenant, Sinks.one());
    waiters.compute(inboundId, (k, set) -> {
      Set<Waiting> s = set == null ? ConcurrentHashMap.newKeySet() : set;
      s.add(w);
      return s;
    });
    return new Waiter(inboundId, w);
  }

  /**
   * A registered wait; {@link #cancel()} releases its slot (idempotent): whoever registers one must
   * cancel it however the request ends (reply, timeout, error or the client hanging up).
   */
  public final class Waiter {
    private final String id;
    private final Waiting waiting;
    private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

    private Waiter(String id, Waiting waiting) {
      this.id = id;
      this.waiting = waiting;
    }

    public Mono<Optional<ReplyEvent>> reply(Duration timeout) {
      return Timeouts.orElse(waiting.sink().asMono().map(Optional::of), timeout, Optional.<ReplyEvent>empty())
          // before the outcome goes downstream (doFinally would run after the response is written)
          .doOnTerminate(this::cancel)
          .doOnCancel(this::cancel);
    }

    public void cancel() {
      if (done.compareAndSet(false, true)) {
        waiters.computeIfPresent(id, (k, set) -> {
          set.remove(waiting);
          return set.isEmpty() ? null : set;
        });
        ReplyHub.this.waiting.decrementAndGet();
      }
    }
  }

  /**
   * Live replies of one channel from now on; the subscription is registered when this method
   * returns (not on subscribe), so a caller can register, then read history, then go live
   * without a gap. The Flux errors with {@link SlowConsumerException} on overflow.
   */
  public Subscriber subscribe(String tenant, String platform, String channelId) {
    Subscriber s = new Subscriber(new ChannelKey(tenant, platform, channelId), channelId);
    channels.computeIfAbsent(s.key, k -> ConcurrentHashMap.newKeySet()).add(s);
    return s;
  }

  public int waiting() {
    return waiting.get();
  }

  /** A conversation: (tenant, platform, channel). */
  private record ChannelKey(String tenant, String platform, String channel) {}

  /** One SSE stream's or WebSocket subscription's bounded queue. */
  public final class Subscriber {
    private final ChannelKey key;
    private final String channel;
    private final Sinks.Many<ReplyEvent> sink =
        Sinks.many().unicast().onBackpressureBuffer(new ArrayBlockingQueue<>(SUBSCRIBER_QUEUE), () -> {});
    /** Fired on overflow: ends the flux at once, dropping the queue, instead of after it drains. */
    private final Sinks.One<Boolean> killed = Sinks.one();
    private volatile boolean overflowed;

    private Subscriber(ChannelKey key, String channel) {
      this.key = key;
      this.channel = channel;
    }

    /** Synchronized with {@link #close()}: emissions into the sink must be serialized. */
    synchronized void offer(ReplyEvent e) {
      Sinks.EmitResult r = sink.tryEmitNext(e);
      // a full queue reports FAIL_ZERO_SUBSCRIBER instead of FAIL_OVERFLOW before anyone subscribed
      if (r == Sinks.EmitResult.FAIL_OVERFLOW || r == Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER) {
        overflowed = true;
        killed.tryEmitValue(true);
        close();
      }
    }

    /** The live replies; one subscriber only. Cancelling unregisters. */
    public Flux<ReplyEvent> flux() {
      return sink.asFlux()
          .takeUntilOther(killed.asMono())
          .concatWith(Mono.defer(() -> overflowed
              ? Mono.error(new SlowConsumerException(channel, SUBSCRIBER_QUEUE))
              : Mono.empty()))
          .doFinally(s -> close());
    }

    /** Unregisters (idempotent). */
    public void close() {
      channels.computeIfPresent(key, (k, set) -> {
        set.remove(this);
        return set.isEmpty() ? null : set;
      });
      synchronized (this) {
        sink.tryEmitComplete();
      }
    }
  }
}
