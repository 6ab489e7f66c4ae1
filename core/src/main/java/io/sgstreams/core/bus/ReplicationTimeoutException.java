package io.sgstreams.core.bus;

import java.time.Duration;

/**
 * Fewer replicas than {@code SG_PUBLISH_REPLICAS} confirmed a publish within the WAIT timeout. The
 * entry <em>was</em> written on the master and may well be handled: a client told of this should
 * retry with the same Idempotency-Key, which the gateway answers from the first attempt.
 */
public final class ReplicationTimeoutException extends StreamException {
  private final String entryId;
  private final int wanted;
  private final long acked;

  public ReplicationTimeoutException(String stream, String entryId, int wanted, long acked, Duration timeout) {
    super("entry " + entryId + " was written but only " + acked + " of " + wanted + " replicas confirmed it within "
        + timeout.toMillis() + " ms (SG_PUBLISH_REPLICAS)", stream, null, null, null, null);
    this.entryId = entryId;
    this.wanted = wanted;
    this.acked = acked;
  }

  public String entryId() {
    return entryId;
  }

  public int wanted() {
    return wanted;
  }

  public long acked() {
    return acked;
  }
}
