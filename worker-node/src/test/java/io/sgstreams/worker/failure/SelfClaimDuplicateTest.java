package io.sgstreams.worker.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Reproduces a race in core's receiver: a single consumer whose handler is slower than the claim
 * threshold claims its own in-flight entries; when an entry's XACK completes between the
 * XAUTOCLAIM reply and the emission of the claimed entries (after the XPENDING round trip for
 * delivery counts), the id is no longer in the local in-flight set and the already-acknowledged
 * entry was handled a second time (a duplicate reply). Legal under at-least-once, but the engine
 * means to prevent it. Fixed in core: ids this consumer acknowledged lately are remembered
 * (bounded) and a claim or history read that returns one acknowledges it again instead of
 * emitting it.
 */
class SelfClaimDuplicateTest {
  static final int MESSAGES = 400;

  @Test
  void aConsumerNeverHandlesItsOwnAcknowledgedEntryAgain() {
    try (FailureRig rig = new FailureRig(SlowHandlerFactory.NAME, c -> c.withConcurrency(32).withMaxDeliveries(1000)
        .withClaim(Duration.ofMillis(15), Duration.ofMillis(5)))) {
      List<InboundEnvelope> sent = IntStream.range(0, MESSAGES)
          .mapToObj(i -> InboundEnvelope.create("web", "c" + i, "u", "m" + i)).toList();
      Flux.fromIterable(sent).flatMap(rig.probe::publishInbound, 16).then().block(FailureRig.CMD);
      Set<String> ids = sent.stream().map(InboundEnvelope::id).collect(Collectors.toSet());
      await().atMost(Duration.ofSeconds(30)).until(() -> rig.length(rig.outbound()) >= MESSAGES && rig.pending() == 0);
      Map<String, Long> replies = rig.replies().stream()
          .collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
      assertEquals(ids, replies.keySet());
      long duplicated = replies.values().stream().filter(n -> n > 1).count();
      assertEquals(0, duplicated, duplicated + " of " + MESSAGES + " messages were handled more than once");
    }
  }
}
