package io.sgstreams.core.consume;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.internal.DefaultStreamReceiver;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reads a set of streams through one consumer group as one consumer.
 *
 * <ul>
 *   <li>Each stream is read on a dedicated connection with {@code XREADGROUP COUNT n BLOCK ms};
 *       n is bounded by downstream demand and by the free in-flight slots, so nothing is
 *       buffered beyond what was asked for.
 *   <li>After each (re)connect it first re-reads its own pending entries (id {@code 0}), then
 *       new ones ({@code >}).
 *   <li>Every claim interval it takes over entries idle for longer than the claim threshold
 *       with {@code XAUTOCLAIM}, within the same in-flight budget; delivery counts come from
 *       the server's pending list.
 *   <li>Transient errors never end the Flux: the reader reconnects with backoff and jitter, and a
 *       missing group (NOGROUP) is recreated at {@code 0}.
 * </ul>
 */
public interface StreamReceiver {
  static StreamReceiver create(RedisEventBus bus, ReceiverOptions options) {
    return new DefaultStreamReceiver(bus, options);
  }

  /** A receiver whose acknowledgements are fenced by a partition lease ({@link Fence}). */
  static StreamReceiver create(RedisEventBus bus, ReceiverOptions options, Fence fence) {
    return new DefaultStreamReceiver(bus, options, fence, () -> {});
  }

  /** As above; {@code onFenced} runs when a fenced ack is refused (the lease is gone). */
  static StreamReceiver create(RedisEventBus bus, ReceiverOptions options, Fence fence, Runnable onFenced) {
    return new DefaultStreamReceiver(bus, options, fence, onFenced);
  }

  /**
   * A receiver whose conversations are ordered across workers ({@code SG_ORDERING=channel-lock},
   * shared assignment): see {@link ChannelTurns}. Every worker of the group must use one.
   */
  static StreamReceiver channelOrdered(RedisEventBus bus, ReceiverOptions options) {
    return new DefaultStreamReceiver(bus, options, null, () -> {}, true);
  }

  ReceiverOptions options();

  /** The cross-worker turns of conversations its Router follows; null when order is kept within this worker only. */
  default ChannelTurns channelTurns() {
    return null;
  }

  /**
   * Cold: reading starts on subscribe. One subscriber at a time. Completes after {@link #stop()}
   * once the reads in progress have returned; cancelling stops reading at once.
   */
  Flux<Delivery> receive();

  /** Stops reading and claiming (a blocked read is unblocked); entries already read are still emitted. */
  void stop();

  /**
   * In-flight slots in use: deliveries emitted and not yet settled, plus slots reserved for a
   * read or claim in progress (an idle receiver blocked in XREADGROUP holds up to read_count).
   * Never more than {@code maxInFlight}.
   */
  int inFlight();

  /**
   * Waits for queued acknowledgements, gives back what is unsettled (it stays pending for
   * another consumer) and closes the readers' connections.
   */
  Mono<Void> close();
}
