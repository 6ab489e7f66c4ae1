package io.sgstreams.worker.handlers;

import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;

/** The worker stream carries inbound envelopes; anything else is dead-lettered at once. */
public final class Inbound {
  private Inbound() {}

  /** The delivery's inbound envelope. @throws PermanentFailure for another kind */
  public static InboundEnvelope of(Delivery delivery) {
    Envelope env = delivery.envelope();
    if (!(env instanceof InboundEnvelope in)) {
      throw new PermanentFailure("the worker handles inbound envelopes, got " + env.kind().wire()
          + " " + env.id() + " on " + delivery.stream());
    }
    return in;
  }
}
