package io.sgstreams.core.consume;

/**
 * A partition lease a consumer holds: its acks and replies on the partition's keys go through
 * scripts that first check that {@code leaseKey} still holds {@code token} ({@code owner:generation}),
 * in the same slot, so a worker that lost its lease (it stalled past the TTL and another took the
 * partition) can neither publish nor acknowledge.
 */
public record Fence(String leaseKey, String token) {
  public Fence {
    if (leaseKey == null || leaseKey.isBlank() || token == null || token.isBlank()) {
      throw new IllegalArgumentException("a fence needs a lease key and a token");
    }
  }

  /** The error a fenced command fails with once the lease is gone. */
  public static final String FENCED = "FENCED";

  /** Whether {@code t} (or a cause) is a fenced command refused because the lease is gone. */
  public static boolean isFenced(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c.getMessage() != null && c.getMessage().contains(FENCED)) {
        return true;
      }
    }
    return false;
  }
}
