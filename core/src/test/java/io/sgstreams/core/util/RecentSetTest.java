package io.sgstreams.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RecentSetTest {
  private final AtomicLong now = new AtomicLong();

  @Test
  void aKeyIsRememberedForTheWholeWindowHoweverManyOthersPass() {
    RecentSet keys = RecentSet.within(Duration.ofSeconds(10), 1_000_000, now::get);
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
    RecentSet keys = RecentSet.within(Duration.ofMinutes(5), 100, now::get);
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
    RecentSet ids = RecentSet.lastN(3);
    for (String k : new String[] {"a", "b", "c", "d"}) {
      assertTrue(ids.add(k));
    }
    assertFalse(ids.contains("a"));
    assertTrue(ids.contains("b") && ids.contains("d"));
    assertFalse(ids.add("d"));
    assertEquals(0, ids.evictedEarly());
  }

  @Test
  void pairsAreKeyedByBothPartsNotByTheirConcatenation() {
    RecentSet pairs = RecentSet.lastN(10);
    assertTrue(pairs.add("ab", "c"));
    assertTrue(pairs.add("a", "bc"), "another split of the same characters is another key");
    assertTrue(pairs.add("abc"), "a single key is not a pair");
    assertTrue(pairs.add("", "abc"));
    assertFalse(pairs.add("ab", "c"));
    assertTrue(pairs.contains("a", "bc"));
    assertFalse(pairs.contains("a", "b"));
    assertTrue(pairs.add("é\u0000😀", "x"), "any UTF-16, NUL and surrogate pairs included");
    assertFalse(pairs.add("é\u0000😀", "x"));
    assertTrue(pairs.add("x".repeat(10_000), "long keys are hashed whole"));
    assertFalse(pairs.add("x".repeat(10_000), "long keys are hashed whole"));
    assertTrue(pairs.add("x".repeat(10_000), "long keys are hashed whole!"));
  }

  /**
   * The ring and its open-addressing index against a LinkedHashMap model (the previous
   * implementation) over random adds and lookups with a clock, a window and a small cap: growth,
   * wrap-around, expiry and backward-shift deletion all exercised, every answer equal.
   */
  @Test
  void behavesLikeAnInsertionOrderedMapOverRandomOperations() {
    Random rnd = new Random(42);
    for (int round = 0; round < 20; round++) {
      int cap = 1 + rnd.nextInt(round < 10 ? 40 : 3000);
      long window = 1 + rnd.nextInt(2_000);
      RecentSet set = RecentSet.within(Duration.ofNanos(window), cap, now::get);
      Model model = new Model(cap, window);
      int universe = 1 + rnd.nextInt(cap * 3 + 10);
      for (int op = 0; op < 30_000; op++) {
        now.addAndGet(rnd.nextInt(3));
        String k = "k" + rnd.nextInt(universe);
        if (rnd.nextInt(4) == 0) {
          assertEquals(model.contains(k), set.contains(k), "contains " + k + " at op " + op);
        } else {
          assertEquals(model.add(k), set.add(k), "add " + k + " at op " + op);
        }
        assertEquals(model.seen.size(), set.size());
      }
      assertEquals(model.evictedEarly, set.evictedEarly());
    }
  }

  @Test
  void aMillionTimeOrderedIdsAreAllDistinct() {
    // the gateway's keys: UUIDv7-like ids that share long prefixes, and "<id>:message" keys
    RecentSet set = RecentSet.lastN(1_000_000);
    long msb = 0x01a23d29_c5d0_7000L;
    for (int i = 0; i < 1_000_000; i++) {
      String id = new UUID(msb + (i >>> 4), 0xa000_0000_0000_0000L | i).toString();
      assertTrue(set.add(id, id + ":message"), "no false duplicate at " + i);
    }
    assertEquals(1_000_000, set.size());
  }

  /** The previous implementation, as the reference. */
  private final class Model {
    final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();
    final int capacity;
    final long windowNanos;
    long evictedEarly;

    Model(int capacity, long windowNanos) {
      this.capacity = capacity;
      this.windowNanos = windowNanos;
    }

    boolean add(String key) {
      long t = now.get();
      for (Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator(); it.hasNext(); ) {
        Map.Entry<String, Long> oldest = it.next();
        boolean expired = t - oldest.getValue() > windowNanos;
        if (!expired && seen.size() < capacity) {
          break;
        }
        if (!expired) {
          evictedEarly++;
        }
        it.remove();
      }
      return seen.putIfAbsent(key, t) == null;
    }

    boolean contains(String key) {
      Long at = seen.get(key);
      return at != null && now.get() - at <= windowNanos;
    }
  }
}
