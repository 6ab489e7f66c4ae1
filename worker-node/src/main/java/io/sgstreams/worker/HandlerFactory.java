package io.sgstreams.worker;

import io.sgstreams.core.consume.Handler;

/**
 * Makes the handler a worker runs over the inbound stream. {@code echo} and {@code openai} are
 * built in; user factories are found with {@link java.util.ServiceLoader} (list the class in
 * {@code META-INF/services/io.sgstreams.worker.HandlerFactory}) and chosen by
 * {@code SG_WORKER_HANDLER} = their {@link #name()} or their class name.
 */
public interface HandlerFactory {
  /** The value of {@code SG_WORKER_HANDLER} that selects this factory. */
  String name();

  /** Called once at startup. The handler must not block (see {@link Handler}). */
  Handler create(WorkerContext ctx);
}
