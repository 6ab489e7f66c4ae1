package io.sgstreams.tools.testtools;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.util.Map;
import reactor.core.publisher.Mono;

/** Test tool: throws (synchronously, outside the Mono) on every call. */
public final class BoomTool implements Tool {
  @Override
  public String name() {
    return "boom";
  }

  @Override
  public String description() {
    return "Always throws (tests).";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object");
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    throw new IllegalStateException("kaboom");
  }
}
