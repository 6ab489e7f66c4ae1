package io.sgstreams.bench.roundtrip;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;

/**
 * {@code --via stream}: publishes with the core bus, as a gateway does. The replies are not its
 * business: {@link RoundTripBenchmark} reads them from the outbound stream.
 */
final class StreamRequestSender implements RequestSender {
  private final RedisEventBus bus;

  StreamRequestSender(RedisEventBus bus) {
    this.bus = bus;
  }

  @Override
  public void send(InboundEnvelope request, Outcome outcome) {
    String cid = request.correlationId();
    bus.publishInbound(request).subscribe(id -> {}, e -> outcome.failed(cid));
  }
}
