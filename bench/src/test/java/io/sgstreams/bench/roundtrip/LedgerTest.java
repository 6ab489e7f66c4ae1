package io.sgstreams.bench.roundtrip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LedgerTest {

  @Test
  void answersOnceThenCountsDuplicates() {
    Ledger l = new Ledger(16);
    l.sent(0, 100);
    l.sent(1, 200);
    assertEquals(2, l.outstanding());
    assertEquals(200, l.answer(1));
    assertEquals(Ledger.DUPLICATE, l.answer(1));
    assertEquals(Ledger.UNKNOWN, l.answer(2), "never sent");
    assertEquals(Ledger.UNKNOWN, l.answer(-1), "not this run's");
    assertEquals(1, l.outstanding());
    assertTrue(l.failed(0));
    assertFalse(l.failed(0));
    assertEquals(Ledger.UNKNOWN, l.answer(0), "a failed request is not answered by a late reply");
    assertEquals(0, l.outstanding());
  }

  @Test
  void growsWhenAnOldRequestIsStillOutstanding() {
    Ledger l = new Ledger(16);
    assertEquals(16, l.capacity());
    l.sent(0, -7); // never answered while 40 newer ones come and go
    for (int i = 1; i <= 40; i++) {
      l.sent(i, i * 10L);
      assertEquals(i * 10L, l.answer(i));
    }
    assertEquals(64, l.capacity(), "requests 16 and 32 would have landed on request 0's slot: grown twice");
    assertEquals(1, l.outstanding());
    assertEquals(-7, l.answer(0));
  }

  @Test
  void keepsRequestsOutstandingBeyondTheLargestRing() {
    Ledger l = new Ledger(16);
    int n = Ledger.MAX_RING * 3 + 5;
    for (int i = 0; i < n; i++) {
      l.sent(i, i);
    }
    assertEquals(Ledger.MAX_RING, l.capacity());
    assertEquals(n, l.outstanding());
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    Collections.shuffle(order, new Random(42));
    for (int i : order) {
      assertEquals(i, l.answer(i), "request " + i);
    }
    assertEquals(0, l.outstanding());
    assertEquals(Ledger.DUPLICATE, l.answer(Ledger.MAX_RING * 2 + 1));
  }

  @Test
  void failsAndClearsRequestsThatWerePushedOutOfTheRing() {
    Ledger l = new Ledger(16);
    int n = Ledger.MAX_RING + 2; // requests 0 and 1 end up in the overflow map
    for (int i = 0; i < n; i++) {
      l.sent(i, i);
    }
    assertTrue(l.failed(0), "an errored request pushed out of the ring is failed, not left to count as lost");
    assertFalse(l.failed(0));
    assertEquals(n - 1, l.outstanding());
    l.clear();
    assertEquals(0, l.outstanding());
    assertEquals(Ledger.UNKNOWN, l.answer(1), "the overflow map is cleared with the ring");
  }

  @Test
  void refusesNegativeSequenceNumbers() {
    Ledger l = new Ledger(16);
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> l.sent(-1, 0));
    assertEquals(0, l.outstanding());
  }

  @Test
  void sizesTheRingToAPowerOfTwoWithinBounds() {
    assertEquals(16, new Ledger(1).capacity());
    assertEquals(32, new Ledger(17).capacity());
    assertEquals(2048, new Ledger(2000).capacity());
    assertEquals(Ledger.MAX_RING, new Ledger(Integer.MAX_VALUE).capacity());
  }

  @Test
  void clearStartsAPhaseAfresh() {
    Ledger l = new Ledger(16);
    l.sent(3, 30);
    l.sent(4, 40);
    assertEquals(30, l.answer(3));
    l.clear();
    assertEquals(0, l.outstanding());
    assertEquals(Ledger.UNKNOWN, l.answer(3), "answered in the previous phase only");
    assertEquals(Ledger.UNKNOWN, l.answer(4), "outstanding in the previous phase only");
    l.sent(3, 33);
    assertEquals(33, l.answer(3));
  }
}
