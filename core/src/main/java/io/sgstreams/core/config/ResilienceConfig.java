package io.sgstreams.core.config;

import java.time.Duration;

/**
 * The {@code resilience} section: the circuit breakers and bulkheads around every outside call
 * (the model API, webhook POSTs, the worker's tool calls). Each guarded call has its own breaker
 * and bulkhead with these settings.
 *
 * @param breakerFailures failures (errors or timeouts) among the last {@code breakerWindow} calls that open a breaker
 * @param breakerWindow how many recent calls a breaker looks at
 * @param breakerOpen how long an open breaker refuses calls before it lets a few through (half-open)
 * @param bulkheadMaxConcurrent calls in progress at once per guarded target; more are refused at once
 */
public record ResilienceConfig(int breakerFailures, int breakerWindow, Duration breakerOpen, int bulkheadMaxConcurrent) {
  public ResilienceConfig {
    if (breakerFailures < 1 || breakerWindow < breakerFailures) {
      throw new IllegalArgumentException("breaker failures must be between 1 and the window (" + breakerWindow + "), got "
          + breakerFailures);
    }
  }

  /** The failure rate (percent) that opens a breaker. */
  public float failureRatePercent() {
    return 100f * breakerFailures / breakerWindow;
  }
}
