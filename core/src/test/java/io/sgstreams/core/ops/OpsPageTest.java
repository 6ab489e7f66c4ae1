package io.sgstreams.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OpsPageTest {
  /** A clock tests move by hand. */
  private static final class Manual extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void sessionsAreRandomAndExpire() {
    Manual clock = new Manual();
    OpsPage.Sessions s = new OpsPage.Sessions(clock, Duration.ofHours(12), 3);
    String a = s.create();
    String b = s.create();
    assertNotEquals(a, b);
    assertTrue(a.length() >= 43, "256 bits: " + a);
    assertTrue(s.valid(a));
    assertFalse(s.valid("forged"));
    assertFalse(s.valid(""));
    clock.now = clock.now.plus(Duration.ofHours(12));
    assertFalse(s.valid(a), "expired after the TTL");
    String c = s.create();
    assertTrue(s.valid(c));
    s.end(c);
    assertFalse(s.valid(c), "logged out");
  }

  @Test
  void sessionsAreBoundedDroppingTheOldest() {
    Manual clock = new Manual();
    OpsPage.Sessions s = new OpsPage.Sessions(clock, Duration.ofHours(12), 2);
    String first = s.create();
    clock.now = clock.now.plusSeconds(1);
    String second = s.create();
    clock.now = clock.now.plusSeconds(1);
    String third = s.create();
    assertEquals(2, s.size());
    assertFalse(s.valid(first));
    assertTrue(s.valid(second) && s.valid(third));
  }

  @Test
  void headroomBadges() {
    assertEquals("ok", OpsPage.badge(100_000, 100_000));
    assertEquals("ok", OpsPage.badge(10_000, 100_000));
    assertEquals("low", OpsPage.badge(9_999, 100_000));
    assertEquals("full", OpsPage.badge(0, 100_000));
    assertEquals("full", OpsPage.badge(-5, 100_000));
  }

  @Test
  void theLoginFormsKeyField() {
    assertEquals("a b+c", OpsPage.formField("x=1&key=a+b%2Bc", "key"));
    assertEquals("", OpsPage.formField("key=", "key"));
    assertNull(OpsPage.formField("keys=1", "key"));
    assertNull(OpsPage.formField("key=%zz", "key"));
  }

  @Test
  void circuitBreakerStatesComeFromTheRegistry() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    assertTrue(OpsPage.breakers(registry).isEmpty(), "none on this node");
    CircuitBreakerRegistry cbr = CircuitBreakerRegistry.ofDefaults();
    CircuitBreaker cb = cbr.circuitBreaker("openai");
    cbr.circuitBreaker("tools");
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(cbr).bindTo(registry);
    assertEquals(Map.of("openai", "closed", "tools", "closed"), OpsPage.breakers(registry));
    cb.transitionToOpenState();
    assertEquals("open", OpsPage.breakers(registry).get("openai"));
  }
}
