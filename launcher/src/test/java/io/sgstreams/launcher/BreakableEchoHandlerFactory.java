package io.sgstreams.launcher;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;

/**
 * {@code SG_WORKER_HANDLER=breakable-echo}: answers {@code fixed: CONTENT}, except for messages of a
 * channel in {@link #BROKEN}, whose every delivery fails (a transient-looking error, so the engine
 * retries it up to the delivery limit and then dead-letters it). A test "fixes the handler" by
 * removing its channel; channels keep tests running in one JVM apart.
 */
public final class BreakableEchoHandlerFactory implements HandlerFactory {
  /** Channels whose messages fail. */
  public static final Set<String> BROKEN = ConcurrentHashMap.newKeySet();

  @Override
  public String name() {
    return "breakable-echo";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    return d -> {
      if (!(d.envelope() instanceof InboundEnvelope in)) {
        return Mono.error(new PermanentFailure("not an inbound envelope: " + d.envelope().kind().wire()));
      }
      if (BROKEN.contains(in.channelId())) {
        return Mono.error(new IllegalStateException("poison: the handler is broken for channel " + in.channelId()));
      }
      return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE,
          "fixed: " + in.content()))));
    };
  }
}
