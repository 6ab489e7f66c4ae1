package io.sgstreams.worker.failure;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import java.time.Duration;
import reactor.core.publisher.Mono;

/** {@code slow-20ms}: echo after {@link #DELAY} on a timer (never a sleep: handlers must not block). */
public final class SlowHandlerFactory implements HandlerFactory {
  public static final String NAME = "slow-20ms";
  public static final Duration DELAY = Duration.ofMillis(20);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Handler create(WorkerContext ctx) {
    return d -> Mono.delay(DELAY).map(t -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, in.content())));
    });
  }
}
