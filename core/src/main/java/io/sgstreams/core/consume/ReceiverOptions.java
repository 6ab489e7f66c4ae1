package io.sgstreams.core.consume;

import io.sgstreams.core.config.ConsumerSettings;
import java.time.Duration;
import java.util.List;

/**
 * What one receiver reads and how. Immutable; one wither per field that callers tune.
 *
 * @param streams the streams this consumer serves through {@code group} (one today; the
 *     partitions of a logical stream later). Each gets its own blocking reader and claimer.
 * @param consumer stable per process ({@code {role}-{node_id}}), so a restarted pod finds its
 *     own pending entries
 * @param maxInFlight entries read (or claimed) and not yet settled, over all streams
 * @param claimMinIdle entries idle this long are claimed; the entries a consumer holds are renewed
 *     every third of it, so only those of consumers that stopped renewing ever get this idle
 * @param removeIdleConsumersAfter other consumers of the group idle this long with nothing pending are removed
 */
public record ReceiverOptions(
    List<String> streams,
    String group,
    String consumer,
    int readCount,
    Duration readBlock,
    int maxInFlight,
    Duration claimMinIdle,
    Duration claimInterval,
    int maxDeliveries,
    int ackBatch,
    Duration drainTimeout,
    Duration removeIdleConsumersAfter) {

  public ReceiverOptions {
    streams = List.copyOf(streams);
    if (streams.isEmpty()) {
      throw new IllegalArgumentException("a receiver needs at least one stream");
    }
    if (group == null || group.isBlank() || consumer == null || consumer.isBlank()) {
      throw new IllegalArgumentException("group and consumer must not be empty");
    }
    if (claimMinIdle == null || claimMinIdle.isZero() || claimMinIdle.isNegative()
        || claimInterval == null || claimInterval.isZero() || claimInterval.isNegative()
        || removeIdleConsumersAfter == null || removeIdleConsumersAfter.isZero() || removeIdleConsumersAfter.isNegative()) {
      throw new IllegalArgumentException("claimMinIdle, claimInterval and removeIdleConsumersAfter must be positive");
    }
    if (readCount <= 0 || maxInFlight <= 0 || maxDeliveries <= 0 || ackBatch <= 0) {
      throw new IllegalArgumentException("readCount, maxInFlight, maxDeliveries and ackBatch must be positive");
    }
  }

  public static ReceiverOptions of(String stream, String group, String consumer, ConsumerSettings s) {
    return new ReceiverOptions(List.of(stream), group, consumer, s.readCount(), s.readBlock(), s.concurrency(),
        s.claimMinIdle(), s.claimInterval(), s.maxDeliveries(), s.ackBatch(), s.drainTimeout(), s.removeIdleConsumersAfter());
  }

  public ReceiverOptions withStreams(List<String> s) {
    return new ReceiverOptions(s, group, consumer, readCount, readBlock, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withConsumer(String c) {
    return new ReceiverOptions(streams, group, c, readCount, readBlock, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withMaxInFlight(int n) {
    return new ReceiverOptions(streams, group, consumer, readCount, readBlock, n, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withReadCount(int n) {
    return new ReceiverOptions(streams, group, consumer, n, readBlock, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withReadBlock(Duration d) {
    return new ReceiverOptions(streams, group, consumer, readCount, d, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withClaim(Duration minIdle, Duration interval) {
    return new ReceiverOptions(streams, group, consumer, readCount, readBlock, maxInFlight, minIdle, interval, maxDeliveries, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withMaxDeliveries(int n) {
    return new ReceiverOptions(streams, group, consumer, readCount, readBlock, maxInFlight, claimMinIdle, claimInterval, n, ackBatch, drainTimeout, removeIdleConsumersAfter);
  }

  public ReceiverOptions withRemoveIdleConsumersAfter(Duration d) {
    return new ReceiverOptions(streams, group, consumer, readCount, readBlock, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, drainTimeout, d);
  }

  /** How often held entries are renewed: a third of {@code claimMinIdle}. */
  public Duration renewInterval() {
    return io.sgstreams.core.config.ConsumerSettings.renewInterval(claimMinIdle);
  }

  public ReceiverOptions withDrainTimeout(Duration d) {
    return new ReceiverOptions(streams, group, consumer, readCount, readBlock, maxInFlight, claimMinIdle, claimInterval, maxDeliveries, ackBatch, d, removeIdleConsumersAfter);
  }
}
