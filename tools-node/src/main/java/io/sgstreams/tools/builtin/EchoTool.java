package io.sgstreams.tools.builtin;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.util.Map;
import reactor.core.publisher.Mono;

/** {@code echo}: replies with its arguments, unchanged. A probe for the whole tool path. */
public final class EchoTool implements Tool {
  @Override
  public String name() {
    return "echo";
  }

  @Override
  public String description() {
    return "Returns its arguments unchanged.";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object", "additionalProperties", true);
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.just(args == null ? Map.of() : args);
  }
}
