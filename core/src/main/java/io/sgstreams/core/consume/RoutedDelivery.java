package io.sgstreams.core.consume;

import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * The delivery a Router hands to its handler chain: the receiver's delivery plus
 * {@link #emit(Reply)}, whose publishes the Router waits for before the final replies and the ack.
 */
final class RoutedDelivery implements Delivery {
  private final Delivery d;
  private final ReplyPublisher publisher;
  private List<Mono<String>> emits;
  /** The handler's last reply, kept back to be written together with the ack ({@link ReplyPublisher.Acking}). */
  volatile Reply deferredFinal;

  RoutedDelivery(Delivery d, ReplyPublisher publisher) {
    this.d = d;
    this.publisher = publisher;
  }

  @Override
  public Mono<String> emit(Reply reply) {
    if (d.lost()) {
      return Mono.error(new IllegalStateException("entry " + d.id() + " on " + d.stream()
          + " was taken over by another consumer: nothing more is published for it here"));
    }
    if (d.settled()) {
      return Mono.error(new IllegalStateException("entry " + d.id() + " on " + d.stream() + " is settled already"));
    }
    Mono<String> m = publisher.publish(reply).cache();
    synchronized (this) {
      if (emits == null) {
        emits = new ArrayList<>();
      }
      emits.add(m);
    }
    m.subscribe(id -> {}, e -> {}); // publishes now, in call order; the caller may ignore the result
    return m;
  }

  /** Completes when everything emitted so far is written; fails if any of it failed. */
  Mono<Void> emitted() {
    List<Mono<String>> snapshot;
    synchronized (this) {
      if (emits == null || emits.isEmpty()) {
        return Mono.empty();
      }
      snapshot = List.copyOf(emits);
    }
    return Mono.when(snapshot);
  }

  @Override public String stream() { return d.stream(); }
  @Override public String group() { return d.group(); }
  @Override public String consumer() { return d.consumer(); }
  @Override public String id() { return d.id(); }
  @Override public long deliveryCount() { return d.deliveryCount(); }
  @Override public boolean redelivered() { return d.redelivered(); }
  @Override public Map<String, byte[]> fields() { return d.fields(); }
  @Override public byte[] data() { return d.data(); }
  @Override public String traceId() { return d.traceId(); }
  @Override public Envelope envelope() { return d.envelope(); }
  @Override public Optional<EnvelopeException> decodeError() { return d.decodeError(); }
  @Override public Mono<Void> ack() { return d.ack(); }
  @Override public Mono<Void> ackWith(Mono<Void> publishAndAck) { return d.ackWith(publishAndAck); }
  @Override public Mono<Void> deadLetter(Throwable cause) { return d.deadLetter(cause); }
  @Override public void release() { d.release(); }
  @Override public boolean settled() { return d.settled(); }
  @Override public boolean lost() { return d.lost(); }
  @Override public Mono<Boolean> whenLost() { return d.whenLost(); }

  @Override
  public String toString() {
    return d.toString();
  }
}
