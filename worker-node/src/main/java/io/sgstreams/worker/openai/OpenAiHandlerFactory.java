package io.sgstreams.worker.openai;

import io.sgstreams.core.resilience.Guard;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import io.sgstreams.worker.metrics.WorkerMetrics;

/** {@code SG_WORKER_HANDLER=openai}: base URL, model and key from {@code OPENAI_*} (the {@code worker} section). */
public final class OpenAiHandlerFactory implements HandlerFactory {
  @Override
  public String name() {
    return "openai";
  }

  @Override
  public Handler create(WorkerContext ctx) {
    var s = ctx.settings();
    OpenAiClient client = new OpenAiClient(s.openAiBaseUrl(), s.openAiApiKey(), s.openAiTimeout(),
        new WorkerMetrics(ctx.registry()));
    ConversationMemory memory = new ConversationMemory(ctx.bus(), s.historyPrefix(), s.historyTurns(),
        s.historyMaxChars(), s.historyTtl(), ctx.journal().orElse(null));
    Guard model = Guard.of("model", ctx.config().resilience(), null, ctx.registry());
    return new OpenAiHandler(client, ctx.tools(), s, memory, model);
  }
}
