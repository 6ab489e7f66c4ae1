package io.sgstreams.tools.testtools;

import io.sgstreams.tools.Args;
import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Mono;

/** Test user tool: reverses {@code text}. */
public final class ReverseTool implements Tool {
  @Override
  public String name() {
    return "reverse";
  }

  @Override
  public String description() {
    return "Reverses a string (tests).";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object", "properties", Map.of("text", Map.of("type", "string")), "required", List.of("text"));
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.fromSupplier(() -> new StringBuilder(Args.requireString(args, "text")).reverse().toString());
  }
}
