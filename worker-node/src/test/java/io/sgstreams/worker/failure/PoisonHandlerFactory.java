package io.sgstreams.worker.failure;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import reactor.core.publisher.Mono;

/**
 * {@code poison-echo}: echoes every message except one whose content is {@link #POISON}, for
 * which it always fails with {@link PoisonException} (a transient-looking error, so the engine
 * retries it until the delivery limit).
 */
public final class PoisonHandlerFactory implements HandlerFactory {
  public static final String NAME = "poison-echo";
  public static final String POISON = "poison-pill";

  /** The handler's failure: its class and message must reach the dead letter. */
  public static final class PoisonException extends RuntimeException {
    public PoisonException(String message) {
      super(message);
    }
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Handler create(WorkerContext ctx) {
    return d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      if (POISON.equals(in.content())) {
        return Mono.error(new PoisonException("cannot digest " + in.id()));
      }
      return Mono.just(HandlerResult.of(Reply.outbound(
          OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, in.content()))));
    };
  }
}
