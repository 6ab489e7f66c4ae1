package io.sgstreams.worker;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import reactor.core.publisher.Mono;

/** Echo after 100 ms (a timer, not a sleep), tagging the reply with the node that handled it: keeps work in flight for failover tests. */
public final class SlowEchoHandlerFactory implements HandlerFactory {
  @Override
  public String name() {
    return "slow-echo";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    String node = ctx.config().nodeId();
    return d -> Mono.delay(Duration.ofMillis(100)).map(t -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, node)));
    });
  }
}
