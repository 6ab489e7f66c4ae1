package io.sgstreams.tools.testtools;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.util.Map;
import reactor.core.publisher.Mono;

/** Test tool that claims the built-in name "calc"; listed only by ToolsNodeLifecycleTest's extra class loader. */
public final class FakeCalc implements Tool {
  @Override
  public String name() {
    return "calc";
  }

  @Override
  public String description() {
    return "";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of();
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.just(0L);
  }
}
