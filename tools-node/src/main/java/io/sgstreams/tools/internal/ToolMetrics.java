package io.sgstreams.tools.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;

/**
 * {@code sg_tool_calls_total{tool, outcome}} and {@code sg_tool_duration_seconds{tool}}. The tool
 * tag is a registered name or {@code unknown}, so callers cannot grow the tag set.
 */
public final class ToolMetrics {
  public static final String CALLS = "sg.tool.calls";
  public static final String DURATION = "sg.tool.duration";
  public static final String UNKNOWN = "unknown";

  private final MeterRegistry registry;

  public ToolMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void record(String tool, Outcome outcome, long nanos) {
    Counter.builder(CALLS).description("Tool calls by tool and outcome")
        .tag("tool", tool).tag("outcome", outcome.code())
        .register(registry).increment();
    Timer.builder(DURATION).description("Time from a tool request's delivery to its reply being ready")
        .tag("tool", tool)
        .register(registry).record(nanos, TimeUnit.NANOSECONDS);
  }

  public MeterRegistry registry() {
    return registry;
  }
}
