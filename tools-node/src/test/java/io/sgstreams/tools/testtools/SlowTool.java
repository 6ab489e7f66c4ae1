package io.sgstreams.tools.testtools;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * Test tool: never answers and declares a 200 ms timeout, so every call times out (or hits its
 * deadline). A reply to a call of it can only come from the timeout, so no test needs a clock to
 * tell the two apart.
 */
public final class SlowTool implements Tool {
  @Override
  public String name() {
    return "slow";
  }

  @Override
  public String description() {
    return "Never answers: only its own timeout ends a call (tests).";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object");
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.never();
  }

  @Override
  public Duration timeout() {
    return Duration.ofMillis(200);
  }
}
