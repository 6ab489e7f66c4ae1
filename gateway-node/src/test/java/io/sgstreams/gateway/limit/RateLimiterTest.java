package io.sgstreams.gateway.limit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.auth.Caller;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Two gateway nodes' limiters on one real Redis, many requests at once: the shared per-minute limits hold. */
class RateLimiterTest {
  /** Two nodes of one deployment: one namespace. */
  private final io.sgstreams.core.config.SgConfig config = TestRedis.config("ratelimit");
  private final RedisEventBus busA = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
  private final RedisEventBus busB = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
  /** Mid-minute, so that the whole test runs in one window. */
  private final Clock clock = Clock.fixed(Instant.parse("2026-12-04T10:00:30Z"), ZoneOffset.UTC);

  @AfterEach
  void close() {
    busA.close();
    busB.close();
  }

  private static int admitted(List<RateLimiter> nodes, Caller caller, int requests) {
    AtomicInteger ok = new AtomicInteger();
    List<Mono<Void>> all = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      all.add(nodes.get(i % nodes.size()).check(caller)
          .doOnSuccess(v -> ok.incrementAndGet())
          .onErrorResume(RateLimiter.RateLimited.class, e -> Mono.empty()));
    }
    Flux.merge(Flux.fromIterable(all), 256).then().block(Duration.ofSeconds(60));
    return ok.get();
  }

  @Test
  void twoNodesAdmitAtMostTheLimitBetweenThemWhenRequestsComeAllAtOnce() {
    List<RateLimiter> nodes = List.of(new RateLimiter(busA, 1_000, clock), new RateLimiter(busB, 1_000, clock));
    Caller caller = new Caller("acme", "key-aaaaaaaaaaaaaaaa", null);
    int ok = admitted(nodes, caller, 3_000);
    assertTrue(ok <= 1_000, "never more than the limit: " + ok);
    assertTrue(ok >= 1_000 - 2 * 9, "at most cap - 1 (9) units left unused per node: " + ok);
    String counted = new String(busA.connections().commands().get(busA.topology().rateLimitKey(caller.id(), clock.millis() / 60_000)).block(),
        java.nio.charset.StandardCharsets.US_ASCII);
    assertTrue(Long.parseLong(counted) >= 1_000, "the window's counter: " + counted);
  }

  @Test
  void theTenantTotalHoldsAcrossKeysAndNodes() {
    List<RateLimiter> nodes = List.of(new RateLimiter(busA, 1_000, 1_500, clock), new RateLimiter(busB, 1_000, 1_500, clock));
    int ok = admitted(nodes, new Caller("acme", "key-bbbbbbbbbbbbbbbb", null), 1_000)
        + admitted(nodes, new Caller("acme", "key-cccccccccccccccc", null), 1_000);
    assertTrue(ok <= 1_500, "never more than the tenant's total: " + ok);
    assertTrue(ok >= 1_500 - 2 * 14, "at most cap - 1 (14) left unused per node: " + ok);
    int other = admitted(nodes, new Caller("globex", "key-dddddddddddddddd", null), 500);
    assertEquals(500, other, "another tenant is not affected");
  }

  @Test
  void aCallerUnderTwoHundredAMinuteIsCountedOneRequestAtATime() {
    List<RateLimiter> nodes = List.of(new RateLimiter(busA, 150, clock), new RateLimiter(busB, 150, clock));
    Caller caller = new Caller("acme", "key-eeeeeeeeeeeeeeee", null);
    assertEquals(100, admitted(nodes, caller, 100));
    String counted = new String(busA.connections().commands().get(busA.topology().rateLimitKey(caller.id(), clock.millis() / 60_000)).block(),
        java.nio.charset.StandardCharsets.US_ASCII);
    assertEquals("100", counted, "one unit per request: nothing claimed ahead");
    assertEquals(50, admitted(nodes, caller, 400));
  }
}
