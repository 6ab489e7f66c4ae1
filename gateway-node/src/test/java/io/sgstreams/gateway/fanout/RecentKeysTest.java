package io.sgstreams.gateway.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentKeysTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void aKeyIsRememberedForTheWholeWindowHoweverManyOthersPass() {
    RecentKeys keys = new RecentKeys(Duration.ofSeconds(10), 1_000_000, now::get);
    assertTrue(keys.firstTime("r1"));
    for (int i = 0; i < 50_000; i++) { // far more than any count-based window
      now.addAndGet(100_000); // 0.1 ms each: 5 s in all
      assertTrue(keys.firstTime("other-" + i));
    }
    assertFalse(keys.firstTime("r1"), "a duplicate 5 s and 50,000 replies later is still caught");
    now.addAndGet(Duration.ofSeconds(6).toNanos());
    assertTrue(keys.firstTime("r1"), "forgotten once the window has passed");
    assertEquals(0, keys.evictedEarly());
  }

  @Test
  void theMemoryCapEvictsOldestFirstAndCountsEarlyEvictions() {
    RecentKeys keys = new RecentKeys(Duration.ofMinutes(5), 100, now::get);
    for (int i = 0; i < 150; i++) {
      assertTrue(keys.firstTime("k" + i));
    }
    assertEquals(100, keys.size());
    assertEquals(50, keys.evictedEarly());
    assertTrue(keys.firstTime("k0"), "pushed out by the cap");
    assertFalse(keys.firstTime("k149"));
  }
}
