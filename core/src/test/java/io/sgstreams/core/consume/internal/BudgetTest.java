package io.sgstreams.core.consume.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class BudgetTest {
  @Test
  void parkedEntriesLendTheirSlotsToClaimsButNotToReads() {
    Budget b = new Budget(4);
    b.request(4);
    assertEquals(4, b.reserveRead(100));
    // all four wait for a turn held by a dead worker: without a loan its entry could never be claimed
    assertEquals(0, b.reserveClaim(10));
    b.parked(2);
    b.request(2); // the Router asks for one more per parked entry
    assertTrue(b.hasRoom());
    assertFalse(b.hasRoomForRead(), "reads stay within the bound");
    assertEquals(0, b.reserveRead(10));
    assertEquals(2, b.reserveClaim(10));
    assertEquals(6, b.inFlight());
    b.parked(-2);
    b.settled();
    b.settled();
    assertFalse(b.hasRoom(), "back within the bound only once the loans are repaid");
    b.settled();
    assertEquals(3, b.inFlight());
  }

  @Test
  void reservesNoMoreThanDemandAndFreeSlots() {
    Budget b = new Budget(10);
    assertEquals(0, b.reserveRead(100), "no demand yet");
    b.request(4);
    assertEquals(4, b.reserveRead(100));
    assertEquals(0, b.reserveRead(100), "demand used up");
    b.request(100);
    assertEquals(6, b.reserveRead(100), "only the free slots");
    assertEquals(10, b.inFlight());
    assertEquals(0, b.reserveClaim(5), "no slot for a claim either");
  }

  @Test
  void unreservedSlotsReturnWithTheirDemand() {
    Budget b = new Budget(10);
    b.request(10);
    assertEquals(10, b.reserveRead(100));
    b.unreserve(7); // a read brought 3 entries
    assertEquals(3, b.inFlight());
    assertEquals(7, b.demand());
    b.settled();
    assertEquals(2, b.inFlight());
    assertEquals(7, b.reserveRead(100), "settling frees a slot but not demand: the consumer asks for more itself");
  }

  /** The starvation the claim priority prevents: an idle reader holding every slot in a blocking read. */
  @Test
  void aWaitingClaimGetsTheSlotsAReaderGivesBackBeforeTheNextRead() {
    Budget b = new Budget(8);
    b.request(Long.MAX_VALUE);
    assertEquals(8, b.reserveRead(100), "an idle reader blocks with every slot");
    assertEquals(0, b.reserveClaim(100), "the claimer finds none");
    b.claimWaiting(true);
    assertFalse(b.hasRoomForRead());
    b.unreserve(8); // the blocked read is unblocked and returns empty
    assertEquals(0, b.reserveRead(100), "the reader does not take them back while a claim waits");
    assertTrue(b.hasRoom());
    assertEquals(8, b.reserveClaim(100), "the claim gets them");
    b.claimWaiting(false);
    b.unreserve(3); // 5 entries claimed
    assertEquals(3, b.reserveRead(100), "reads resume with what is left");
  }

  @Test
  void demandOverflowSaturatesAndWaitingCallsMustPair() {
    Budget b = new Budget(4);
    b.request(Long.MAX_VALUE);
    b.request(Long.MAX_VALUE);
    assertEquals(Long.MAX_VALUE, b.demand());
    assertThrows(IllegalStateException.class, () -> b.claimWaiting(false));
    assertThrows(IllegalArgumentException.class, () -> new Budget(0));
  }

  @Test
  void aReadLeavesOneSlotForEachIdleReaderOfTheOtherStreams() {
    Budget b = new Budget(64);
    b.request(64);
    assertEquals(53, b.reserveRead(100, 11), "11 other readers idle: one slot kept for each");
    assertEquals(1, b.reserveRead(100, 10));
    assertEquals(1, b.reserveRead(100, 30), "always one for this reader while any is free");
    assertEquals(9, b.reserveRead(100, 0));
    assertEquals(0, b.reserveRead(100, 0), "nothing free");
  }
}
