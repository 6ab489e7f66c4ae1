package io.sgstreams.launcher.failure;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * {@code SG_WORKER_HANDLER=delayed-echo}: the echo contract, answered after
 * {@code SG_TEST_HANDLER_DELAY_MS} (default 100) on a timer, never a sleep. The failure tests run it
 * in child worker JVMs (the test class path is theirs) so that work is in flight when a worker is
 * killed or told to stop. The reply's content is the handling node's id, so a test can tell who
 * answered.
 */
public final class DelayedEchoHandlerFactory implements HandlerFactory {
  /** Environment variable of the child process: the delay per message in milliseconds. */
  public static final String DELAY_ENV = "SG_TEST_HANDLER_DELAY_MS";

  @Override
  public String name() {
    return "delayed-echo";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    Duration delay = Duration.ofMillis(Long.parseLong(System.getenv().getOrDefault(DELAY_ENV, "100")));
    String node = ctx.config().nodeId();
    return d -> {
      if (!(d.envelope() instanceof InboundEnvelope in)) {
        return Mono.error(new PermanentFailure("not an inbound envelope: " + d.envelope().kind().wire()));
      }
      return Mono.delay(delay).map(t ->
          HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, node))));
    };
  }
}
