package io.sgstreams.core.consume.internal;

/**
 * Downstream demand and in-flight slots, reserved together before any read or claim, so that the
 * readers and the claimers of all streams never hold more entries than {@code maxInFlight}.
 *
 * <p>Claims come first: while a claimer waits for slots ({@link #claimWaiting}), readers reserve
 * nothing, so slots freed by settled entries (or given back by an unblocked read) go to the claim.
 * Otherwise an idle reader, blocked in XREADGROUP with every free slot reserved, would starve the
 * claimer forever and a dead consumer's entries would never be reclaimed.
 */
public final class Budget {
  private final int maxInFlight;
  private long demand;
  private int inFlight;
  private int claimsWaiting;
  /**
   * Emitted entries parked waiting for their conversation's turn on another worker
   * ({@code SG_ORDERING=channel-lock}): claims may go this far over {@code maxInFlight}, so a worker
   * whose slots all wait for a dead worker's entry can still claim it (reads stay within the bound).
   */
  private int parked;

  public Budget(int maxInFlight) {
    if (maxInFlight <= 0) {
      throw new IllegalArgumentException("maxInFlight must be positive");
    }
    this.maxInFlight = maxInFlight;
  }

  public synchronized void request(long n) {
    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
  }

  /** Slots for a read: up to {@code max}; 0 when there is no demand, no free slot, or a claim is waiting. */
  public synchronized int reserveRead(int max) {
    return reserveRead(max, 0);
  }

  /**
   * As {@link #reserveRead(int)}, leaving {@code keepBack} slots (of demand and of free slots) for
   * the other readers that have no read outstanding, one each, but always at least one for this
   * reader when any is free. A receiver of several streams (the partitions of a stream) has one
   * blocking reader per stream: without this the first reader, blocked on an empty stream with
   * every slot reserved, would starve the readers of the streams that have entries.
   */
  public synchronized int reserveRead(int max, int keepBack) {
    if (claimsWaiting > 0) {
      return 0;
    }
    long available = Math.min(demand, maxInFlight - inFlight);
    if (available <= 0) {
      return 0;
    }
    return take((int) Math.min(max, Math.max(1, available - keepBack)), maxInFlight);
  }

  /** Slots for a claim: up to {@code max}; 0 when there is no demand or no free slot (parked entries lend theirs). */
  public synchronized int reserveClaim(int max) {
    return take(max, maxInFlight + parked);
  }

  /** {@code delta} more (or fewer) emitted entries are parked waiting for a turn elsewhere. */
  public synchronized void parked(int delta) {
    parked = Math.max(0, parked + delta);
  }

  private int take(int max, int limit) {
    long n = Math.min(max, Math.min(demand, limit - inFlight));
    if (n <= 0) {
      return 0;
    }
    demand -= n;
    inFlight += (int) n;
    return (int) n;
  }

  /** A claimer starts ({@code true}) or stops ({@code false}) waiting for slots. Calls must pair up. */
  public synchronized void claimWaiting(boolean waiting) {
    claimsWaiting += waiting ? 1 : -1;
    if (claimsWaiting < 0) {
      throw new IllegalStateException("claimWaiting(false) without claimWaiting(true)");
    }
  }

  public synchronized boolean claimsWaiting() {
    return claimsWaiting > 0;
  }

  /** Gives back reserved slots that were not used for an emitted entry. */
  public synchronized void unreserve(int n) {
    if (n > 0) {
      demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
      inFlight -= n;
    }
  }

  /** An emitted entry was settled. */
  public synchronized void settled() {
    inFlight--;
  }

  public synchronized int inFlight() {
    return inFlight;
  }

  public synchronized long demand() {
    return demand;
  }

  /** A claim could reserve at least one slot now. */
  public synchronized boolean hasRoom() {
    return demand > 0 && inFlight < maxInFlight + parked;
  }

  /** A read could reserve at least one slot now. */
  public synchronized boolean hasRoomForRead() {
    return claimsWaiting == 0 && demand > 0 && inFlight < maxInFlight;
  }
}
