package io.sgstreams.worker;

import static org.awaitility.Awaitility.await;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Reading a platform's outbound stream back in tests. */
public final class Outbound {
  private Outbound() {}

  public static List<OutboundEnvelope> all(RedisEventBus bus, String platform) {
    return bus.topology().outboundStreams(platform).stream()
        .flatMap(stream -> Streams.all(bus, stream).stream())
        .map(m -> bus.codec().decode(m.getBody().get(StreamFields.DATA), OutboundEnvelope.class))
        .toList();
  }

  /** The answer to {@code inboundId}: its first reply that is not progress (a delta, a tool_call event). */
  static Optional<OutboundEnvelope> replyTo(RedisEventBus bus, String platform, String inboundId) {
    return all(bus, platform).stream().filter(o -> o.inReplyTo().equals(inboundId) && !o.isProgress()).findFirst();
  }

  /** Every reply to {@code inboundId} in stream order, progress included. */
  static List<OutboundEnvelope> allTo(RedisEventBus bus, String platform, String inboundId) {
    return all(bus, platform).stream().filter(o -> o.inReplyTo().equals(inboundId)).toList();
  }

  static OutboundEnvelope awaitReply(RedisEventBus bus, String platform, String inboundId, Duration within) {
    return await().atMost(within).pollInterval(Duration.ofMillis(20))
        .until(() -> replyTo(bus, platform, inboundId), Optional::isPresent).get();
  }
}
