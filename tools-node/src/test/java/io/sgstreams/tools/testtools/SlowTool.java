package io.sgstreams.tools.testtools;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/** Test tool: answers after 5 s but declares a 200 ms timeout, so every call times out. */
public final class SlowTool implements Tool {
  @Override
  public String name() {
    return "slow";
  }

  @Override
  public String description() {
    return "Sleeps past its own timeout (tests).";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object");
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.delay(Duration.ofSeconds(5)).map(x -> "too late");
  }

  @Override
  public Duration timeout() {
    return Duration.ofMillis(200);
  }
}
