package io.sgstreams.worker.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;

/**
 * The worker's own meters (the consumer engine's are in core's StreamMetrics). Tags are
 * low-cardinality: tool names come from the tools registry, outcomes from a fixed set.
 */
public final class WorkerMetrics {
  /** {@code sg_tool_calls_total{tool, outcome=ok|error|timeout|rejected|failed}}. */
  public static final String TOOL_CALLS = "sg.tool.calls";
  /** {@code sg_tool_call_duration_seconds{tool}}. */
  public static final String TOOL_DURATION = "sg.tool.call.duration";
  /** {@code sg_tool_replies_late_total}: replies that arrived after their caller stopped waiting. */
  public static final String LATE_REPLIES = "sg.tool.replies.late";
  /** {@code sg_llm_calls_total{outcome=ok|error}}: one per HTTP request to the model. */
  public static final String LLM_CALLS = "sg.llm.calls";
  /** {@code sg_llm_call_duration_seconds}. */
  public static final String LLM_DURATION = "sg.llm.call.duration";

  /** Distinct tool tags kept; past this, names are reported as {@code other} (callers may send any name). */
  static final int MAX_TOOL_TAGS = 100;

  private final MeterRegistry registry;
  private final java.util.Set<String> toolTags = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public WorkerMetrics(MeterRegistry registry) {
    this.registry = registry;
    Counter.builder(LATE_REPLIES).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public void toolCall(String name, String outcome, long nanos) {
    String tool = toolTags.contains(name) || (toolTags.size() < MAX_TOOL_TAGS && toolTags.add(name)) ? name : "other";
    Counter.builder(TOOL_CALLS).tag("tool", tool).tag("outcome", outcome).register(registry).increment();
    Timer.builder(TOOL_DURATION).tag("tool", tool).register(registry).record(Duration.ofNanos(nanos));
  }

  public void lateReply() {
    Counter.builder(LATE_REPLIES).register(registry).increment();
  }

  public double lateReplies() {
    return registry.get(LATE_REPLIES).counter().count();
  }

  public void llmCall(String outcome, long nanos) {
    Counter.builder(LLM_CALLS).tag("outcome", outcome).register(registry).increment();
    Timer.builder(LLM_DURATION).register(registry).record(Duration.ofNanos(nanos));
  }
}
