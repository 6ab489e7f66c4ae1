package io.sgstreams.core.consume;

import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeException;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * One pending entry handed to this consumer: an immutable view plus the three ways to settle it.
 * Settling is idempotent: the first of {@link #ack()}, {@link #deadLetter} or {@link #release()}
 * wins and later calls return its outcome. There is no nack: a released entry stays pending and
 * is redelivered by XAUTOCLAIM once idle, with the server's delivery count.
 *
 * <p>While a delivery is unsettled its consumer keeps the entry its own by renewing its idle time
 * (a third of {@code claim_min_idle} at a time), however long the handler runs. A consumer that
 * stalls longer than {@code claim_min_idle} (a GC pause, a network cut) may find the entry taken
 * over by another consumer: the delivery is then {@link #lost()}, {@link #whenLost()} emits, and
 * its result must not be published (the {@link Router} cancels the handler and drops it).
 */
public interface Delivery {
  String stream();

  String group();

  String consumer();

  /** The stream entry id. */
  String id();

  /** Times the server has delivered this entry to the group, this delivery included. */
  long deliveryCount();

  /** True when this delivery came from a claim or from this consumer's own pending list. */
  boolean redelivered();

  /** The raw entry fields, as stored. */
  Map<String, byte[]> fields();

  /** The {@code data} field, or null when the entry has none. */
  byte[] data();

  /** The {@code trace_id} field, or empty. */
  String traceId();

  /** The decoded envelope. @throws EnvelopeException when the entry cannot be decoded */
  Envelope envelope();

  /** Why the entry cannot be decoded, if it can't. */
  Optional<EnvelopeException> decodeError();

  /** XACK (group-committed with other acks). Starts at once; the Mono completes when Redis confirmed it. */
  Mono<Void> ack();

  /**
   * Settles the entry as acknowledged by {@code publishAndAck}, one command that both writes the
   * handler's last reply and acknowledges this entry (a script on one slot), instead of an XACK of
   * its own: no moment exists where the reply is written and the entry still pending, so a crash
   * or a lost lease cannot make a second consumer answer it again. Starts at once. The default
   * (for deliveries of other receivers) runs {@code publishAndAck} then {@link #ack()}.
   */
  default Mono<Void> ackWith(Mono<Void> publishAndAck) {
    return publishAndAck.then(Mono.defer(this::ack));
  }

  /** Writes the dead-letter entry (wire contract), then XACKs this one. Starts at once. */
  Mono<Void> deadLetter(Throwable cause);

  /** Gives the entry back without acknowledging it: it stays pending and will be redelivered. */
  void release();

  /** Whether one of the settling calls was made. */
  boolean settled();

  /**
   * Publishes {@code reply} now, while the handler still runs (a streamed partial answer, a progress
   * event): publishes go out in call order, and the Router acknowledges the entry only after all of
   * them and the handler's final replies are written. Fails once the delivery is lost or settled.
   * Available on the deliveries a {@link Router} hands to its handlers.
   */
  default Mono<String> emit(Reply reply) {
    return Mono.error(new UnsupportedOperationException("emit is available on deliveries handed out by a Router"));
  }

  /** True once another consumer has taken this entry over: its result must not be published. */
  default boolean lost() {
    return false;
  }

  /** Emits {@code true} when this delivery is {@link #lost()}; never completes otherwise. */
  default Mono<Boolean> whenLost() {
    return Mono.never();
  }
}
