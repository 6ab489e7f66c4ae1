package io.sgstreams.gateway.limit;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.gateway.fanout.ChannelHistory;
import java.time.Clock;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * How many outbound entries a caller's resumes ({@code Last-Event-ID}, SSE or WebSocket) may scan
 * per minute, shared by every gateway node: core's window counter on
 * {@code {inbound}:resume-scan:{caller}-{minute}}, taken a page at a time before the page is read.
 * One resume may scan up to 20,000 entries of a busy stream to find a channel's few replies; a
 * caller reconnecting in a loop would otherwise have every node decode the stream over and over.
 */
public final class ResumeBudget {
  private static final Duration WINDOW_TTL = Duration.ofSeconds(61);

  private final RedisEventBus bus;
  private final int perMinute;
  private final Clock clock;

  /** @param perMinute entries per caller per minute; 0 = no budget */
  public ResumeBudget(RedisEventBus bus, int perMinute, Clock clock) {
    this.bus = bus;
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /** {@code caller}'s allowance (its {@link io.sgstreams.gateway.auth.Caller#id()}). */
  public ChannelHistory.Budget of(String caller) {
    if (perMinute <= 0) {
      return ChannelHistory.Budget.UNLIMITED;
    }
    return entries -> Mono.defer(() -> {
      long window = clock.millis() / 60_000;
      return bus.counters().add(bus.topology().resumeScanKey(caller, window), entries, WINDOW_TTL)
          .map(total -> total <= perMinute);
    });
  }
}
