package io.sgstreams.gateway.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** {@code sg_gateway_requests_total{route, status}}: routes are templates, never raw paths. */
public final class GatewayMetrics {
  private final MeterRegistry registry;

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void request(String route, int status) {
    Counter.builder("sg.gateway.requests").tag("route", route).tag("status", Integer.toString(status))
        .register(registry).increment();
  }
}
