package io.sgstreams.worker.tools;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.StreamReceiver;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.resilience.Guard;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.metrics.WorkerMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Calls tools on the tools nodes and waits for their replies.
 *
 * <p>Each call publishes a {@link ToolRequest} whose {@code reply_to} is this worker's own reply
 * stream ({@code topology.toolsReplyStream("worker-{node_id}")}) and whose correlation id is
 * fresh; the waiting call is kept in a bounded map by correlation id.
 *
 * <p>ONE demultiplexing reader per worker reads the reply stream and completes the waiting calls.
 * It is core's {@link StreamReceiver} with a group of its own on that stream (the worker group's
 * name; the stream has exactly one consumer) rather than a plain XREAD loop, because the receiver
 * already brings what a hand-written loop would have to redo: a dedicated connection for the
 * blocking read, reconnects with backoff, NOGROUP recreation (the stream may expire and be
 * recreated by a tools node's XADD), and acknowledgement, so a reply read just before a crash is
 * read again after a restart with the same node id instead of being lost, and the group's
 * pending count shows replies not yet dispatched.
 *
 * <p>A reply whose caller is no longer waiting (timed out, cancelled) is counted as late
 * ({@code sg_tool_replies_late_total}) and acknowledged. The reply stream is capped by the
 * publisher's {@code MAXLEN} and expires when its worker is gone: a {@code PEXPIRE} of
 * {@code replyStreamTtl} is refreshed every tenth of it while the client runs.
 */
public final class ToolsClient {
  private static final Logger log = LoggerFactory.getLogger(ToolsClient.class);
  /** Replies dispatched at once by the reader: dispatching is a map lookup, so this only bounds acks in flight. */
  static final int READER_IN_FLIGHT = 256;

  private final RedisEventBus bus;
  private final WorkerMetrics metrics;
  private final String replyStream;
  private final String group;
  private final int maxPending;
  private final Duration ttl;
  private final Map<String, Waiting> pending = new ConcurrentHashMap<>();
  /** Circuit breaker and bulkhead around tool calls: with the tools nodes down, calls fail at once. */
  private final Guard guard;

  /** A call waiting for its reply. */
  private record Waiting(String tool, Sinks.One<ToolReply> sink) {}
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Sinks.Empty<Void> readerDone = Sinks.empty();
  private volatile StreamReceiver receiver;
  private volatile Disposable reading;
  private volatile Disposable refreshing;

  private ToolsClient(RedisEventBus bus, WorkerMetrics metrics, int maxPending, Duration ttl, Guard guard) {
    this.guard = guard;
    this.bus = bus;
    this.metrics = metrics;
    this.maxPending = maxPending;
    this.ttl = ttl;
    this.replyStream = bus.topology().toolsReplyStream(bus.consumerName(Role.WORKER));
    this.group = bus.topology().workerGroup();
  }

  /**
   * Creates the reply stream and its group, sets its expiry and starts the reader and the expiry
   * refresher. Completes when the client is ready to take calls.
   */
  public static Mono<ToolsClient> start(RedisEventBus bus, WorkerMetrics metrics, int maxPending, Duration replyStreamTtl,
      Guard guard) {
    ToolsClient c = new ToolsClient(bus, metrics, maxPending, replyStreamTtl, guard);
    return bus.ensureGroup(c.replyStream, c.group)
        .then(c.expire())
        .then(Mono.fromRunnable(c::startReading))
        .thenReturn(c);
  }

  /** The stream tool replies for this worker arrive on. */
  public String replyStream() {
    return replyStream;
  }

  /** Calls waiting for a reply now. */
  public int pendingCalls() {
    return pending.size();
  }

  /** Same as {@link #callTool(String, Map, Duration, InboundEnvelope)} without a conversation. */
  public Mono<ToolReply> callTool(String name, Map<String, ?> args, Duration timeout) {
    return callTool(name, args, timeout, null);
  }

  /**
   * Publishes a request for tool {@code name} and waits up to {@code timeout} for its reply.
   * Lazy: nothing is published before subscription; cancelling stops the wait.
   *
   * @param cause the inbound message this call serves (its platform, channel and headers, so the
   *     trace continues), or null
   * @return the reply, successful or not (a tool's own error is a reply with {@code ok = false});
   *     fails with {@link ToolTimeoutException} when none came in time, {@link ToolsBusyException}
   *     when too many calls wait, {@link ToolsClosedException} after {@link #close()}, or the bus's
   *     {@code StreamException} when the request could not be published
   */
  public Mono<ToolReply> callTool(String name, Map<String, ?> args, Duration timeout, InboundEnvelope cause) {
    return Mono.defer(() -> {
      long start = System.nanoTime();
      if (closed.get()) {
        metrics.toolCall(name, "rejected", System.nanoTime() - start);
        return Mono.error(new ToolsClosedException(name, null));
      }
      if (pending.size() >= maxPending) {
        metrics.toolCall(name, "rejected", System.nanoTime() - start);
        return Mono.error(new ToolsBusyException(name, maxPending));
      }
      ToolRequest req = ToolRequest.create(name, args, replyStream, System.currentTimeMillis() + timeout.toMillis());
      if (cause != null) {
        req = req.withContext(cause.platform(), cause.channelId()).withHeaders(cause.headers());
      }
      String cid = req.correlationId();
      Sinks.One<ToolReply> sink = Sinks.one();
      Waiting waiting = new Waiting(name, sink);
      // Registered before publishing: a fast reply must find its caller, not count as late.
      pending.put(cid, waiting);
      ToolRequest request = req;
      return guard.mono(bus.publishToolsRequest(request)
              .onErrorMap(io.sgstreams.core.bus.BacklogFullException.class, e -> new ToolsBusyException(name, e))
              .then(sink.asMono())
              .timeout(timeout)
              .onErrorMap(TimeoutException.class, e -> new ToolTimeoutException(name, cid, timeout)))
          .onErrorMap(Guard.Refused.class, e -> new ToolsUnavailableException(name, e))
          .doOnSuccess(r -> metrics.toolCall(name, r != null && r.ok() ? "ok" : "error", System.nanoTime() - start))
          .doOnError(e -> metrics.toolCall(name, e instanceof ToolTimeoutException ? "timeout"
                  : e instanceof ToolsBusyException || e instanceof ToolsUnavailableException ? "rejected" : "failed",
              System.nanoTime() - start))
          // before the outcome goes downstream (doFinally would run after it, so a caller that
          // reacts to the timeout could still see the call as pending)
          .doOnTerminate(() -> pending.remove(cid, waiting))
          .doOnCancel(() -> pending.remove(cid, waiting));
    });
  }

  /**
   * Stops the reader (acknowledging what it dispatched), stops refreshing the expiry and fails
   * the calls still waiting with {@link ToolsClosedException}. The reply stream is left to expire.
   */
  public Mono<Void> close() {
    return Mono.defer(() -> {
      if (!closed.compareAndSet(false, true)) {
        return readerDone.asMono();
      }
      if (refreshing != null) {
        refreshing.dispose();
      }
      pending.forEach((cid, w) -> w.sink().tryEmitError(new ToolsClosedException(w.tool(), cid)));
      StreamReceiver r = receiver;
      if (r == null) {
        return Mono.empty();
      }
      r.stop();
      return readerDone.asMono()
          .timeout(Duration.ofSeconds(5), Mono.fromRunnable(() -> reading.dispose()))
          .then(r.close())
          .onErrorResume(e -> {
            log.warn("closing the tool reply reader on {}: {}", replyStream, e.toString());
            return Mono.empty();
          });
    });
  }

  private void startReading() {
    var s = bus.config().consumer();
    ReceiverOptions opts = ReceiverOptions.of(replyStream, group, bus.consumerName(Role.WORKER), s)
        .withMaxInFlight(READER_IN_FLIGHT);
    StreamReceiver r = StreamReceiver.create(bus, opts);
    receiver = r;
    reading = r.receive()
        .flatMap(this::dispatch, READER_IN_FLIGHT)
        .doFinally(sig -> readerDone.tryEmitEmpty())
        .subscribe(v -> {}, e -> log.error("tool reply reader on {} stopped on an unexpected error", replyStream, e));
    long every = Math.max(1000, ttl.toMillis() / 10);
    refreshing = Flux.interval(Duration.ofMillis(every))
        .concatMap(t -> expire().onErrorResume(e -> {
          log.warn("could not refresh the expiry of {}: {}", replyStream, e.toString());
          return Mono.empty();
        }))
        .subscribe();
    log.info("tool replies for this worker on {} (group {}, expires {} after the worker is gone)", replyStream, group, ttl);
  }

  private Mono<Void> expire() {
    return bus.expire(replyStream, ttl).then();
  }

  /** Completes the waiting call, or counts the reply as late; then acknowledges it. */
  private Mono<Void> dispatch(Delivery d) {
    if (d.decodeError().isPresent()) {
      return d.deadLetter(d.decodeError().get()).onErrorResume(e -> Mono.empty());
    }
    Envelope env = d.envelope();
    if (env instanceof ToolReply reply) {
      Waiting w = pending.remove(reply.correlationId());
      if (w == null || w.sink().tryEmitValue(reply).isFailure()) {
        metrics.lateReply();
        log.debug("late tool reply {} (correlation_id {}) discarded", d.id(), reply.correlationId());
      }
    } else {
      return d.deadLetter(new io.sgstreams.core.consume.PermanentFailure(
              "a " + env.kind().wire() + " envelope on tool reply stream " + replyStream))
          .onErrorResume(e -> Mono.empty());
    }
    return d.ack().onErrorResume(e -> Mono.empty());
  }
}
