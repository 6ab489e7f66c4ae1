package io.sgstreams.worker.handlers;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;

/** {@code SG_WORKER_HANDLER=echo} (the default). */
public final class EchoHandlerFactory implements HandlerFactory {
  @Override
  public String name() {
    return "echo";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    return new EchoHandler(ctx.tools(), ctx.settings().toolCallTimeout());
  }
}
