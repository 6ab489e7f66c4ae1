package io.sgstreams.bench.roundtrip;

import io.sgstreams.core.envelope.InboundEnvelope;

/** How a request reaches the inbound stream: {@link StreamRequestSender} or {@link HttpRequestSender}. */
interface RequestSender extends AutoCloseable {

  /** What became of a request, reported by the sender (or, for replies read from a stream, by the reader). */
  interface Outcome {
    /** The reply to the request with this correlation id arrived. */
    void answered(String correlationId);

    /** The request with this correlation id was refused or answered with an error: finished, not lost. */
    void failed(String correlationId);
  }

  /** Sends {@code request} without waiting; reports to {@code outcome} from whichever thread completes it. */
  void send(InboundEnvelope request, Outcome outcome);

  @Override
  default void close() {}
}
