package io.sgstreams.worker.failure;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * {@code gated-echo}: echo, but only once the test has opened the gate ({@link #open()}); until
 * then every handler waits (on a signal, never blocking a thread). Lets a test look at the worker
 * and at Redis while no handler can finish, instead of hoping a slow handler is slow enough.
 * One gate per JVM: {@link #reset()} before each test that uses it.
 */
public final class GatedHandlerFactory implements HandlerFactory {
  public static final String NAME = "gated-echo";

  private static volatile Sinks.Empty<Void> gate = Sinks.empty();
  private static final AtomicInteger started = new AtomicInteger();

  /** A closed gate and a zero count. */
  static void reset() {
    gate = Sinks.empty();
    started.set(0);
  }

  /** Lets every waiting handler, and every later one, finish. */
  static void open() {
    gate.tryEmitEmpty();
  }

  /** Handlers started so far (waiting at the gate or past it). */
  static int started() {
    return started.get();
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Handler create(WorkerContext ctx) {
    return d -> Mono.defer(() -> {
      started.incrementAndGet();
      return gate.asMono();
    }).then(Mono.fromCallable(() -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, in.content())));
    }));
  }
}
