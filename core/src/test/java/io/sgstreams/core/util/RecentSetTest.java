package io.sgstreams.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentSetTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void aKeyIsRememberedForTheWholeWindowHoweverManyOthersPass() {
    RecentSet<String> keys = RecentSet.within(Duration.ofSeconds(10), 1_000_000, now::get);
    assertTrue(keys.add("r1"));
    for (int i = 0; i < 50_000; i++) { // far more than any count-based window
      now.addAndGet(100_000); // 0.1 ms each: 5 s in all
      assertTrue(keys.add("other-" + i));
    }
    assertFalse(keys.add("r1"), "a duplicate 5 s and 50,000 replies later is still caught");
    now.addAndGet(Duration.ofSeconds(6).toNanos());
    assertTrue(keys.add("r1"), "forgotten once the window has passed");
    assertEquals(0, keys.evictedEarly());
  }

  @Test
  void theMemoryCapEvictsOldestFirstAndCountsEarlyEvictions() {
    RecentSet<String> keys = RecentSet.within(Duration.ofMinutes(5), 100, now::get);
    for (int i = 0; i < 150; i++) {
      assertTrue(keys.add("k" + i));
    }
    assertEquals(100, keys.size());
    assertEquals(50, keys.evictedEarly());
    assertTrue(keys.add("k0"), "pushed out by the cap");
    assertFalse(keys.add("k149"));
  }

  @Test
  void withoutAWindowItKeepsTheLastNAndCountsNothingEarly() {
    RecentSet<String> ids = RecentSet.lastN(3);
    for (String k : new String[] {"a", "b", "c", "d"}) {
      assertTrue(ids.add(k));
    }
    assertFalse(ids.contains("a"));
    assertTrue(ids.contains("b") && ids.contains("d"));
    assertFalse(ids.add("d"));
    assertEquals(0, ids.evictedEarly());
  }
}
