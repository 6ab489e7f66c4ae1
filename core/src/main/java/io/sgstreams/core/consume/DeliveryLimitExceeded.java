package io.sgstreams.core.consume;

/** The server has delivered an entry more times than allowed (e.g. it crashed every consumer that took it). */
public final class DeliveryLimitExceeded extends PermanentFailure {
  public DeliveryLimitExceeded(String id, long deliveries, int limit) {
    super("entry " + id + " delivered " + deliveries + " times, limit " + limit);
  }
}
