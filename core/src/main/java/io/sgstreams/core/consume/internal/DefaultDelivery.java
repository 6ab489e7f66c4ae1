package io.sgstreams.core.consume.internal;

import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.EnvelopeException;
import io.sgstreams.core.envelope.MalformedEnvelopeException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** A delivery whose settlement is reported back to its receiver exactly once. */
final class DefaultDelivery implements Delivery {
  private final DefaultStreamReceiver receiver;
  private final String stream;
  private final String id;
  private final long deliveryCount;
  private final boolean redelivered;
  private final Map<String, byte[]> fields;
  private final Envelope envelope;
  private final EnvelopeException decodeError;
  private final AtomicReference<Mono<Void>> settlement = new AtomicReference<>();
  private final AtomicReference<Sinks.One<Boolean>> lostSink = new AtomicReference<>();
  private volatile boolean lost;

  DefaultDelivery(DefaultStreamReceiver receiver, String stream, String id, long deliveryCount, boolean redelivered,
      Map<String, byte[]> fields, EnvelopeCodec codec) {
    this.receiver = receiver;
    this.stream = stream;
    this.id = id;
    this.deliveryCount = deliveryCount;
    this.redelivered = redelivered;
    this.fields = fields;
    Envelope env = null;
    EnvelopeException err = null;
    byte[] data = fields.get(StreamFields.DATA);
    if (data == null) {
      err = new MalformedEnvelopeException("stream entry has no '" + StreamFields.DATA + "' field");
    } else {
      try {
        env = codec.decode(data);
      } catch (EnvelopeException e) {
        err = e;
      }
    }
    this.envelope = env;
    this.decodeError = err;
  }

  @Override public String stream() { return stream; }
  @Override public String group() { return receiver.options().group(); }
  @Override public String consumer() { return receiver.options().consumer(); }
  @Override public String id() { return id; }
  @Override public long deliveryCount() { return deliveryCount; }
  @Override public boolean redelivered() { return redelivered; }
  @Override public Map<String, byte[]> fields() { return fields; }
  @Override public byte[] data() { return fields.get(StreamFields.DATA); }
  @Override public String traceId() { return StreamFields.string(fields, StreamFields.TRACE_ID); }

  @Override
  public Envelope envelope() {
    if (decodeError != null) {
      throw decodeError;
    }
    return envelope;
  }

  @Override
  public Optional<EnvelopeException> decodeError() {
    return Optional.ofNullable(decodeError);
  }

  @Override
  public Mono<Void> ack() {
    return settle(() -> receiver.ackEntry(this), true);
  }

  @Override
  public Mono<Void> deadLetter(Throwable cause) {
    return settle(() -> receiver.deadLetterEntry(this, cause), true);
  }

  @Override
  public Mono<Void> ackWith(Mono<Void> publishAndAck) {
    return settle(() -> publishAndAck.doOnSuccess(v -> receiver.ackedBy(this)), true);
  }

  @Override
  public void release() {
    settle(Mono::empty, false);
  }

  @Override
  public boolean settled() {
    return settlement.get() != null;
  }

  @Override
  public boolean lost() {
    return lost;
  }

  @Override
  public Mono<Boolean> whenLost() {
    Sinks.One<Boolean> s = lostSink.get();
    if (s == null) {
      Sinks.One<Boolean> created = Sinks.one();
      s = lostSink.compareAndSet(null, created) ? created : lostSink.get();
    }
    if (lost) {
      s.tryEmitValue(Boolean.TRUE); // marked before the sink existed
    }
    return s.asMono();
  }

  /** Another consumer owns the entry now (found by the ownership renewal). */
  void markLost() {
    lost = true;
    Sinks.One<Boolean> s = lostSink.get();
    if (s != null) {
      s.tryEmitValue(Boolean.TRUE);
    }
  }

  /** First caller runs {@code op} at once (cached for later callers) and frees the in-flight slot. */
  private Mono<Void> settle(Supplier<Mono<Void>> op, boolean removesFromPending) {
    Mono<Void> existing = settlement.get();
    if (existing != null) {
      return existing;
    }
    Mono<Void> m = Mono.defer(op).cache();
    if (!settlement.compareAndSet(null, m)) {
      return settlement.get();
    }
    receiver.settled(this);
    // the entry stays held (renewed, and never handed out twice by a re-read of our own pending
    // list) until the settling command is done
    m.doOnSuccess(v -> {
      if (removesFromPending) {
        receiver.acknowledged(this);
      }
    }).doFinally(s -> receiver.forget(this)).subscribe(v -> {}, e -> {});
    return m;
  }

  @Override
  public String toString() {
    return "Delivery[" + stream + " " + id + " #" + deliveryCount + "]";
  }
}
