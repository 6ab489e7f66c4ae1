package io.sgstreams.worker;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.Locale;
import reactor.core.publisher.Mono;

/** A user handler, found through META-INF/services: replies with the content in upper case and the worker's node id. */
public final class UpperCaseHandlerFactory implements HandlerFactory {
  @Override
  public String name() {
    return "upper";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    String node = ctx.config().nodeId();
    return d -> Mono.fromSupplier(() -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE,
          in.content().toUpperCase(Locale.ROOT) + " from " + node)));
    });
  }
}
