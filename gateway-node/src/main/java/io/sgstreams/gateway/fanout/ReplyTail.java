package io.sgstreams.gateway.fanout;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.consume.StreamTail;
import io.sgstreams.core.envelope.EnvelopeException;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Follows one outbound stream with core's {@link StreamTail} (no consumer group: every gateway
 * node sees every reply; delivery to clients is in-process) from the stream's end at startup, and
 * hands every decoded reply to {@code sink} in stream order. Undecodable entries are skipped here
 * (the webhook consumer, not this tail, owns dead-lettering).
 */
public final class ReplyTail {
  private static final Logger log = LoggerFactory.getLogger(ReplyTail.class);

  private final RedisEventBus bus;
  private final StreamTail tail;
  private final Consumer<ReplyEvent> sink;

  public ReplyTail(RedisEventBus bus, String stream, Consumer<ReplyEvent> sink) {
    this.bus = bus;
    this.sink = sink;
    this.tail = StreamTail.of(bus, stream, this::onEntry);
  }

  /** Resolves the current end of the stream, then starts following; completes once started. */
  public Mono<Void> start() {
    return tail.start();
  }

  /** The reader is running and its last read did not fail. */
  public boolean alive() {
    return tail.alive();
  }

  public String stream() {
    return tail.stream();
  }

  private void onEntry(StreamEntry e) {
    try {
      OutboundEnvelope o = bus.codec().decode(e.data(), OutboundEnvelope.class);
      sink.accept(new ReplyEvent(e.stream(), e.id(), o));
    } catch (EnvelopeException | IllegalArgumentException | NullPointerException ex) {
      log.warn("skipping undecodable outbound entry {} on {}: {}", e.id(), e.stream(), ex.toString());
    }
  }

  /** Stops following: closing the connection ends the blocked read at once. */
  public Mono<Void> stop() {
    return tail.stop();
  }
}
