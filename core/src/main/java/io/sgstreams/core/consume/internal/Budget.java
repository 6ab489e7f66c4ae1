package io.sgstreams.core.consume.internal;

/**
 * Downstream demand and in-flight slots, reserved together before any read or claim, so that the
 * readers and the claimers of all streams never hold more entries than {@code maxInFlight}.
 */
final class Budget {
  private final int maxInFlight;
  private long demand;
  private int inFlight;

  Budget(int maxInFlight) {
    this.maxInFlight = maxInFlight;
  }

  synchronized void request(long n) {
    demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
  }

  /** Takes up to {@code max} slots; 0 when there is no demand or no free slot. */
  synchronized int reserve(int max) {
    long n = Math.min(max, Math.min(demand, maxInFlight - inFlight));
    if (n <= 0) {
      return 0;
    }
    demand -= n;
    inFlight += (int) n;
    return (int) n;
  }

  /** Gives back reserved slots that were not used for an emitted entry. */
  synchronized void unreserve(int n) {
    if (n > 0) {
      demand = demand + n < 0 ? Long.MAX_VALUE : demand + n;
      inFlight -= n;
    }
  }

  /** An emitted entry was settled. */
  synchronized void settled() {
    inFlight--;
  }

  synchronized int inFlight() {
    return inFlight;
  }

  synchronized boolean hasRoom() {
    return demand > 0 && inFlight < maxInFlight;
  }
}
