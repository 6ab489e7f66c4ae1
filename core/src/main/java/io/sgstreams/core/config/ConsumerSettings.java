package io.sgstreams.core.config;

import java.time.Duration;

/**
 * How consumers read, reclaim, acknowledge and drain. Shared by every role; a receiver may
 * override any field through its own options.
 *
 * @param maxDeliveries deliveries (server's count) after which a failing entry is dead-lettered
 * @param claimMinIdle how long an entry must sit unacknowledged before another consumer claims it
 * @param claimInterval how often a consumer looks for entries to claim
 * @param readCount XREADGROUP COUNT (upper bound; also bounded by free in-flight slots)
 * @param readBlock XREADGROUP BLOCK
 * @param concurrency entries handled at once per consumer (the in-flight bound)
 * @param ackBatch most ids in one XACK (acks are group-committed: one XACK in flight per stream,
 *     the ids that arrive meanwhile go in the next one)
 * @param drainTimeout how long shutdown waits for in-flight handlers
 * @param heartbeatTtl a live process renews its consumer names' heartbeat keys every third of
 *     this; a starting process whose name is held waits up to this long for a stale holder
 * @param removeIdleConsumersAfter consumers idle this long with nothing pending are removed from
 *     their groups ({@code XGROUP DELCONSUMER}), so groups do not fill with the names of gone pods
 */
public record ConsumerSettings(
    int maxDeliveries,
    Duration claimMinIdle,
    Duration claimInterval,
    int readCount,
    Duration readBlock,
    int concurrency,
    int ackBatch,
    Duration drainTimeout,
    Duration heartbeatTtl,
    Duration removeIdleConsumersAfter) {

  public ConsumerSettings {
    positive("max deliveries", maxDeliveries);
    positive("read count", readCount);
    positive("concurrency", concurrency);
    positive("ack batch", ackBatch);
    positive("claim min idle", claimMinIdle);
    positive("claim interval", claimInterval);
    positive("read block", readBlock);
    positive("heartbeat ttl", heartbeatTtl);
    positive("remove idle consumers after", removeIdleConsumersAfter);
    if (drainTimeout == null || drainTimeout.isNegative()) {
      throw new IllegalArgumentException("drain timeout must not be negative");
    }
  }

  /** Every default ({@code consumer.*} in {@link ConfigSchema}). */
  public static ConsumerSettings defaults() {
    return ConfigSchema.defaults().consumer();
  }

  public ConsumerSettings withMaxDeliveries(int n) {
    return new ConsumerSettings(n, claimMinIdle, claimInterval, readCount, readBlock, concurrency, ackBatch, drainTimeout, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withClaim(Duration minIdle, Duration interval) {
    return new ConsumerSettings(maxDeliveries, minIdle, interval, readCount, readBlock, concurrency, ackBatch, drainTimeout, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withRead(int count, Duration block) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, count, block, concurrency, ackBatch, drainTimeout, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withConcurrency(int n) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, readCount, readBlock, n, ackBatch, drainTimeout, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withAckBatch(int batch) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, readCount, readBlock, concurrency, batch, drainTimeout, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withDrainTimeout(Duration d) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, readCount, readBlock, concurrency, ackBatch, d, heartbeatTtl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withHeartbeatTtl(Duration ttl) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, readCount, readBlock, concurrency, ackBatch, drainTimeout, ttl, removeIdleConsumersAfter);
  }

  public ConsumerSettings withRemoveIdleConsumersAfter(Duration d) {
    return new ConsumerSettings(maxDeliveries, claimMinIdle, claimInterval, readCount, readBlock, concurrency, ackBatch, drainTimeout, heartbeatTtl, d);
  }

  /** How often a consumer renews the idle time of the entries it holds: a third of {@code claimMinIdle}. */
  public Duration renewInterval() {
    return renewInterval(claimMinIdle);
  }

  public static Duration renewInterval(Duration claimMinIdle) {
    return Duration.ofMillis(Math.max(1, claimMinIdle.toMillis() / 3));
  }

  private static void positive(String what, int n) {
    if (n <= 0) {
      throw new IllegalArgumentException(what + " must be positive, got " + n);
    }
  }

  private static void positive(String what, Duration d) {
    if (d == null || d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(what + " must be a positive duration, got " + d);
    }
  }
}
