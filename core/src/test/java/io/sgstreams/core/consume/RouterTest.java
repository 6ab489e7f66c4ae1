package io.sgstreams.core.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.BacklogFullException;
import io.sgstreams.core.config.ConsumerSettings;
import io.sgstreams.core.consume.middleware.Middlewares;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeException;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.MalformedEnvelopeException;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.metrics.StreamMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/** The Router against a fake receiver and a fake publisher: no Redis. */
class RouterTest {
  private final ReceiverOptions options = ReceiverOptions.of("in", "g", "c", ConsumerSettings.defaults().withMaxDeliveries(3))
      .withMaxInFlight(8);
  private final FakeReceiver receiver = new FakeReceiver(options);
  private final List<Reply> published = new CopyOnWriteArrayList<>();
  private final StreamMetrics metrics = StreamMetrics.noop();

  /** Publishes at once (recorded), unless a test swaps this. */
  private ReplyPublisher publisher = r -> Mono.fromCallable(() -> {
    published.add(r);
    return "1-0";
  });

  private Router router(Handler h) {
    return Router.create(receiver, r -> publisher.publish(r), metrics, h, List.of()).start();
  }

  private static FakeDelivery delivery(String id, String channel, long count) {
    return new FakeDelivery(id, InboundEnvelope.create("web", channel, "u", "m-" + id), null, count);
  }

  private static Handler echo() {
    return d -> Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo((InboundEnvelope) d.envelope(), "message", "ok"))));
  }

  @Test
  void acknowledgesOnlyAfterEveryReplyIsPublished() {
    List<Sinks.One<String>> writes = new CopyOnWriteArrayList<>();
    publisher = r -> {
      Sinks.One<String> w = Sinks.one();
      writes.add(w);
      published.add(r);
      return w.asMono();
    };
    InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "x");
    router(d -> Mono.just(HandlerResult.of(
        Reply.outbound(OutboundEnvelope.replyTo(in, "message", "one")),
        Reply.outbound(OutboundEnvelope.replyTo(in, "message", "two")))));
    FakeDelivery d = delivery("1-0", "c", 1);
    receiver.emit(d);
    assertEquals(1, writes.size(), "replies go out in order, one after the other");
    writes.get(0).tryEmitValue("5-0");
    assertEquals(2, writes.size());
    assertNull(d.outcome.get(), "not acknowledged while a reply is unwritten");
    writes.get(1).tryEmitValue("6-0");
    assertEquals("ack", d.outcome.get());
  }

  @Test
  void entriesOfOneConversationRunOneAtATimeInOrderWhileOthersRun() {
    List<Sinks.Empty<Void>> gates = new CopyOnWriteArrayList<>();
    List<String> started = new CopyOnWriteArrayList<>();
    router(d -> Mono.defer(() -> {
      started.add(d.id());
      Sinks.Empty<Void> g = Sinks.empty();
      gates.add(g);
      return g.asMono().thenReturn(HandlerResult.none());
    }));
    receiver.emit(delivery("1-0", "a", 1));
    receiver.emit(delivery("2-0", "a", 1));
    receiver.emit(delivery("3-0", "b", 1));
    assertEquals(List.of("1-0", "3-0"), started, "2-0 waits behind 1-0; b runs beside a");
    gates.get(0).tryEmitEmpty();
    assertEquals(List.of("1-0", "3-0", "2-0"), started);
  }

  @Test
  void aLostDeliveryHasItsHandlerCancelledAndItsResultDropped() {
    AtomicInteger cancelled = new AtomicInteger();
    Sinks.One<HandlerResult> result = Sinks.one();
    router(d -> result.asMono().doOnCancel(cancelled::incrementAndGet));
    FakeDelivery d = delivery("1-0", "c", 1);
    receiver.emit(d);
    d.loseOwnership();
    assertEquals(1, cancelled.get(), "the handler was told");
    result.tryEmitValue(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo((InboundEnvelope) d.envelope(), "message", "late"))));
    assertTrue(published.isEmpty(), "nothing published for an entry another consumer owns");
    assertEquals("release", d.outcome.get(), "released, not acknowledged: the new owner settles it");
  }

  @Test
  void aDeliveryLostWhileItsHandlerFailsIsReleasedNotDeadLettered() {
    Sinks.One<HandlerResult> result = Sinks.one();
    router(d -> result.asMono());
    FakeDelivery d = delivery("1-0", "c", 3); // its last allowed delivery
    receiver.emit(d);
    d.lost = true; // lost, and the handler fails before the signal is seen
    result.tryEmitError(new IllegalStateException("boom"));
    assertEquals("release", d.outcome.get());
  }

  @Test
  void failuresAreRetriedThroughRedeliveryThenDeadLettered() {
    router(d -> Mono.error(new IllegalStateException("boom")));
    FakeDelivery first = delivery("1-0", "a", 1);
    FakeDelivery last = delivery("2-0", "b", 3);
    FakeDelivery permanent = new FakeDelivery("3-0", InboundEnvelope.create("web", "c", "u", "x"), null, 1);
    receiver.emit(first);
    receiver.emit(last);
    assertEquals("release", first.outcome.get(), "left pending: claimed again once idle");
    assertEquals("deadLetter", last.outcome.get(), "the last allowed delivery is dead-lettered");
    assertInstanceOf(IllegalStateException.class, last.deadLetterCause.get());

    Router.create(receiver2(), r -> Mono.just("1-0"), metrics, d -> Mono.error(new PermanentFailure("never")), List.of()).start();
    receiver2.emit(permanent);
    assertEquals("deadLetter", permanent.outcome.get(), "a permanent failure at once");
  }

  /**
   * The worker's chain (trace span, then the handler timeout) around a handler that never answers:
   * each attempt fails with a TimeoutException once the timeout passes (the wheel timer fires while
   * nothing else happens), the entry stays pending until its last allowed delivery, which is
   * dead-lettered; the handler was cancelled each time.
   */
  @Test
  void aHandlerSlowerThanItsTimeoutFailsTheAttemptAndIsCancelled() throws Exception {
    AtomicInteger cancelled = new AtomicInteger();
    Router.create(receiver, r -> publisher.publish(r), metrics,
        d -> Mono.<HandlerResult>never().doOnCancel(cancelled::incrementAndGet),
        List.of(Middlewares.traceSpan(), Middlewares.timeout(java.time.Duration.ofMillis(150)))).start();
    FakeDelivery first = delivery("1-0", "a", 1);
    FakeDelivery last = delivery("2-0", "b", 3);
    receiver.emit(first);
    receiver.emit(last);
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    while ((first.outcome.get() == null || last.outcome.get() == null) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals("release", first.outcome.get(), "left pending: claimed again once idle");
    assertEquals("deadLetter", last.outcome.get(), "the last allowed delivery is dead-lettered");
    assertInstanceOf(java.util.concurrent.TimeoutException.class, last.deadLetterCause.get());
    assertEquals(2, cancelled.get(), "each timed-out handler was cancelled");
    assertTrue(published.isEmpty(), "nothing was answered");
  }

  private FakeReceiver receiver2;

  private FakeReceiver receiver2() {
    receiver2 = new FakeReceiver(options);
    return receiver2;
  }

  @Test
  void undecodableAndOverLimitEntriesAreDeadLetteredWithoutRunningTheHandler() {
    AtomicInteger ran = new AtomicInteger();
    router(d -> {
      ran.incrementAndGet();
      return Mono.just(HandlerResult.none());
    });
    FakeDelivery garbage = new FakeDelivery("1-0", null, new MalformedEnvelopeException("not msgpack"), 1);
    FakeDelivery overLimit = delivery("2-0", "c", 4);
    receiver.emit(garbage);
    receiver.emit(overLimit);
    assertEquals(0, ran.get());
    assertEquals("deadLetter", garbage.outcome.get());
    assertInstanceOf(MalformedEnvelopeException.class, garbage.deadLetterCause.get());
    assertEquals("deadLetter", overLimit.outcome.get());
    assertInstanceOf(DeliveryLimitExceeded.class, overLimit.deadLetterCause.get());
  }

  @Test
  void aReplyRefusedByAFullBacklogLeavesTheEntryPending() {
    publisher = r -> Mono.error(new BacklogFullException("out", "sg:gateway:webhook", 1000, 1000, Duration.ofSeconds(1)));
    router(echo());
    FakeDelivery d = delivery("1-0", "c", 1);
    receiver.emit(d);
    assertEquals("release", d.outcome.get(), "not acknowledged: it is handled again later");
  }

  @Test
  void aDrainTimeoutCancelsHandlersStillRunning() {
    AtomicInteger cancelled = new AtomicInteger();
    StepVerifier.withVirtualTime(() -> {
          Router r = router(d -> Mono.<HandlerResult>never().doOnCancel(cancelled::incrementAndGet));
          receiver.emit(delivery("1-0", "a", 1));
          receiver.emit(delivery("2-0", "b", 1));
          return r.shutdown(Duration.ofSeconds(10));
        })
        .expectSubscription()
        .expectNoEvent(Duration.ofSeconds(9))
        .thenAwait(Duration.ofSeconds(1))
        .verifyComplete();
    assertEquals(2, cancelled.get());
    assertTrue(receiver.stopped);
  }

  @Test
  void aDrainWaitsForRunningHandlersAndAcknowledgesThem() {
    Sinks.Empty<Void> gate = Sinks.empty();
    Router r = router(d -> gate.asMono().thenReturn(HandlerResult.none()));
    FakeDelivery d = delivery("1-0", "a", 1);
    receiver.emit(d);
    Mono<Void> stopping = r.shutdown(Duration.ofSeconds(30)).cache();
    stopping.subscribe();
    assertTrue(receiver.stopped, "no new reads");
    assertFalse(r.whenFinished().toFuture().isDone());
    gate.tryEmitEmpty();
    StepVerifier.create(stopping).verifyComplete();
    assertEquals("ack", d.outcome.get());
  }

  @Test
  void whatAHandlerEmitsWhileItRunsIsWrittenInOrderBeforeItsResultAndTheAck() {
    List<Sinks.One<String>> writes = new CopyOnWriteArrayList<>();
    publisher = r -> {
      Sinks.One<String> w = Sinks.one();
      writes.add(w);
      published.add(r);
      return w.asMono();
    };
    Sinks.Empty<Void> more = Sinks.empty();
    router(d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      d.emit(Reply.outbound(OutboundEnvelope.replyTo(in, "delta", "Hel"))); // result ignored: still awaited
      return d.emit(Reply.outbound(OutboundEnvelope.replyTo(in, "delta", "lo")))
          .then(more.asMono())
          .thenReturn(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", "Hello"))));
    });
    FakeDelivery d = delivery("1-0", "c", 1);
    receiver.emit(d);
    assertEquals(2, writes.size(), "both deltas went out at once, while the handler runs");
    writes.get(1).tryEmitValue("6-0");
    more.tryEmitEmpty(); // the handler finishes; the first delta is still unwritten
    assertEquals(2, writes.size(), "the final reply waits for everything emitted before it");
    assertNull(d.outcome.get());
    writes.get(0).tryEmitValue("5-0");
    assertEquals(3, writes.size());
    assertEquals("Hello", ((OutboundEnvelope) published.get(2).envelope()).content());
    assertNull(d.outcome.get(), "not acknowledged before the final reply is written");
    writes.get(2).tryEmitValue("7-0");
    assertEquals("ack", d.outcome.get());
  }

  @Test
  void aFailedEmitLeavesTheEntryPendingAndALostDeliveryEmitsNothing() {
    publisher = r -> Mono.error(new BacklogFullException("out", "g", 1000, 1000, Duration.ofSeconds(1)));
    router(d -> {
      d.emit(Reply.outbound(OutboundEnvelope.replyTo((InboundEnvelope) d.envelope(), "delta", "x")));
      return Mono.just(HandlerResult.none());
    });
    FakeDelivery d = delivery("1-0", "c", 1);
    receiver.emit(d);
    assertEquals("release", d.outcome.get());

    List<Throwable> refused = new CopyOnWriteArrayList<>();
    Router.create(receiver2(), r -> Mono.just("1-0"), metrics, x -> {
      x.whenLost().subscribe(lost -> x.emit(Reply.outbound(OutboundEnvelope.replyTo((InboundEnvelope) x.envelope(), "delta", "late")))
          .subscribe(id -> {}, refused::add));
      return Mono.never();
    }, List.of()).start();
    FakeDelivery lost = delivery("2-0", "c", 1);
    receiver2.emit(lost);
    lost.loseOwnership();
    assertEquals(1, refused.size(), "nothing is published for an entry another consumer owns");
  }

  @Test
  void withoutTheDefaultMiddlewaresNothingIsDeadLetteredAndTheChainIsTheCallers() {
    List<String> calls = new CopyOnWriteArrayList<>();
    Middleware tag = next -> d -> {
      calls.add("outer " + d.id());
      return next.handle(d);
    };
    Router.createWithoutDefaults(receiver, r -> Mono.just("1-0"), metrics, d -> Mono.error(new PermanentFailure("no")),
        List.of(tag)).start();
    FakeDelivery d = delivery("1-0", "c", 3);
    receiver.emit(d);
    assertEquals(List.of("outer 1-0"), calls);
    assertEquals("release", d.outcome.get(), "no dead-letter middleware: redelivered instead");

    // the defaults, reordered by hand, behave as the built-in chain
    Router.createWithoutDefaults(receiver2(), r -> Mono.just("1-0"), metrics, x -> Mono.error(new PermanentFailure("no")),
        List.of(Middlewares.deadLetterOnFailure(3, e -> e instanceof PermanentFailure), Middlewares.metrics(metrics))).start();
    FakeDelivery e = delivery("2-0", "c", 1);
    receiver2.emit(e);
    assertEquals("deadLetter", e.outcome.get());
    assertEquals(1.0, metrics.registry().get("sg.messages.failed").counter().count());
  }

  /** A receiver whose deliveries the test pushes; demand is honoured by buffering. */
  static final class FakeReceiver implements StreamReceiver {
    private final ReceiverOptions options;
    private final Sinks.Many<Delivery> sink = Sinks.many().unicast().onBackpressureBuffer();
    volatile boolean stopped;

    FakeReceiver(ReceiverOptions options) {
      this.options = options;
    }

    void emit(Delivery d) {
      sink.tryEmitNext(d).orThrow();
    }

    @Override public ReceiverOptions options() { return options; }
    @Override public Flux<Delivery> receive() { return sink.asFlux(); }
    @Override public int inFlight() { return 0; }
    @Override public Mono<Void> close() { return Mono.empty(); }

    @Override
    public void stop() {
      stopped = true;
      sink.tryEmitComplete();
    }
  }

  /** Records how it was settled; can be marked lost. */
  static final class FakeDelivery implements Delivery {
    private final String id;
    private final Envelope envelope;
    private final EnvelopeException decodeError;
    private final long count;
    final AtomicReference<String> outcome = new AtomicReference<>();
    final AtomicReference<Throwable> deadLetterCause = new AtomicReference<>();
    private final Sinks.One<Boolean> lostSignal = Sinks.one();
    volatile boolean lost;

    FakeDelivery(String id, Envelope envelope, EnvelopeException decodeError, long count) {
      this.id = id;
      this.envelope = envelope;
      this.decodeError = decodeError;
      this.count = count;
    }

    void loseOwnership() {
      lost = true;
      lostSignal.tryEmitValue(true);
    }

    @Override public String stream() { return "in"; }
    @Override public String group() { return "g"; }
    @Override public String consumer() { return "c"; }
    @Override public String id() { return id; }
    @Override public long deliveryCount() { return count; }
    @Override public boolean redelivered() { return count > 1; }
    @Override public Map<String, byte[]> fields() { return Map.of(); }
    @Override public byte[] data() { return null; }
    @Override public String traceId() { return ""; }
    @Override public Optional<EnvelopeException> decodeError() { return Optional.ofNullable(decodeError); }
    @Override public boolean settled() { return outcome.get() != null; }
    @Override public boolean lost() { return lost; }
    @Override public Mono<Boolean> whenLost() { return lostSignal.asMono(); }

    @Override
    public Envelope envelope() {
      if (decodeError != null) {
        throw decodeError;
      }
      return envelope;
    }

    @Override
    public Mono<Void> ack() {
      return Mono.fromRunnable(() -> outcome.compareAndSet(null, "ack"));
    }

    @Override
    public Mono<Void> deadLetter(Throwable cause) {
      return Mono.fromRunnable(() -> {
        if (outcome.compareAndSet(null, "deadLetter")) {
          deadLetterCause.set(cause);
        }
      });
    }

    @Override
    public void release() {
      outcome.compareAndSet(null, "release");
    }
  }

  @SuppressWarnings("unused")
  private static List<String> ids(List<FakeDelivery> ds) {
    List<String> out = new ArrayList<>();
    ds.forEach(d -> out.add(d.id()));
    return out;
  }
}
