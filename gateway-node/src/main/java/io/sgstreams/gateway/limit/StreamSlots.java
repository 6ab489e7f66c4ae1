package io.sgstreams.gateway.limit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.gateway.http.ApiError;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open SSE streams and WebSockets of each tenant on this node, capped per tenant: one tenant
 * cannot take every connection a node can hold. Past the cap a new stream gets 429
 * {@code too_many_streams}. Per node, in memory: nothing outlives the process that holds the
 * connections, so a crash leaks no slot.
 */
public final class StreamSlots {
  private final int perTenant;
  private final Map<String, Integer> open = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  public StreamSlots(int perTenant, MeterRegistry registry) {
    this.perTenant = perTenant;
    Gauge.builder("sg.gateway.streams.open", total, AtomicInteger::get).register(registry);
  }

  /** A slot for one of {@code tenant}'s streams; throws 429 when the tenant holds all of them. */
  public Slot acquire(String tenant) {
    boolean[] taken = {false};
    open.compute(tenant, (t, n) -> {
      int c = n == null ? 0 : n;
      if (c >= perTenant) {
        return n;
      }
      taken[0] = true;
      return c + 1;
    });
    if (!taken[0]) {
      throw new ApiError(429, "too_many_streams",
          "this tenant has " + perTenant + " SSE streams and WebSockets open on this node; close one first");
    }
    total.incrementAndGet();
    return new Slot(tenant);
  }

  /** Streams {@code tenant} holds open now. */
  public int open(String tenant) {
    return open.getOrDefault(tenant, 0);
  }

  /** One held slot; {@link #release()} is idempotent and must run however the stream ends. */
  public final class Slot {
    private final String tenant;
    private final AtomicBoolean released = new AtomicBoolean();

    private Slot(String tenant) {
      this.tenant = tenant;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        open.computeIfPresent(tenant, (t, n) -> n <= 1 ? null : n - 1);
        total.decrementAndGet();
      }
    }
  }
}
