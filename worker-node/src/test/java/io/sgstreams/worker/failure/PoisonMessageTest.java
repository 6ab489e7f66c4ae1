package io.sgstreams.worker.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * A handler that always fails for one message: that message is dead-lettered after the delivery
 * limit with its error and original bytes, while the 1,000 messages around it on the same stream
 * complete.
 */
class PoisonMessageTest {
  static final int OTHERS = 1000;
  static final int MAX_DELIVERIES = 3;
  static final Duration CLAIM_IDLE = Duration.ofSeconds(2);
  static final Duration WITHIN = Duration.ofSeconds(40);

  @Test
  void poisonIsDeadLetteredAfterTheDeliveryLimitWhileTheOthersComplete() {
    // the poison is redelivered by claiming after CLAIM_IDLE; long enough that the healthy
    // messages are never idle that long under a loaded CI machine (see SlowHandlerTest)
    try (FailureRig rig = new FailureRig(PoisonHandlerFactory.NAME, c -> c.withMaxDeliveries(MAX_DELIVERIES)
        .withClaim(CLAIM_IDLE, Duration.ofMillis(200)))) {
      List<InboundEnvelope> sent = new ArrayList<>();
      for (int i = 0; i < OTHERS; i++) {
        // the poison sits in the middle, in a conversation shared with others
        if (i == OTHERS / 2) {
          sent.add(InboundEnvelope.create("web", "chan-0", "u", PoisonHandlerFactory.POISON));
        }
        sent.add(InboundEnvelope.create("web", "chan-" + (i % 8), "u", "m" + i));
      }
      InboundEnvelope poison = sent.get(OTHERS / 2);
      List<String> streamIds = Flux.fromIterable(sent).concatMap(rig.probe::publishInbound).collectList().block(WITHIN);
      String poisonStreamId = streamIds.get(OTHERS / 2);

      Set<String> expected = sent.stream().filter(e -> e != poison).map(InboundEnvelope::id).collect(Collectors.toSet());
      Set<String> everyone = sent.stream().map(InboundEnvelope::id).collect(Collectors.toSet());
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(100)).until(() ->
          rig.replies().stream().map(OutboundEnvelope::inReplyTo).collect(Collectors.toSet()).containsAll(everyone)
              && rig.length(rig.dlq()) >= 1);
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(100)).until(() -> rig.pending() == 0);

      // one reply per message: the healthy ones answered, the poison's client told it failed
      Map<String, Long> perInbound = rig.replies().stream()
          .collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
      assertEquals(everyone, perInbound.keySet(), "every message has its reply, the poison an error");
      OutboundEnvelope told = rig.replies().stream().filter(o -> o.inReplyTo().equals(poison.id())).findFirst().orElseThrow();
      assertEquals(OutboundEnvelope.TYPE_ERROR, told.type());
      assertEquals("dead_lettered", told.error().code());
      assertTrue(rig.replies().stream().filter(o -> expected.contains(o.inReplyTo()))
          .allMatch(o -> o.type().equals(OutboundEnvelope.TYPE_MESSAGE)));
      assertTrue(perInbound.values().stream().allMatch(n -> n == 1), "one reply each: " + perInbound.values().stream()
          .filter(n -> n != 1).count() + " messages answered more than once");

      // exactly one dead letter: the poison, after the limit, with its error and its original bytes
      List<StreamMessage<String, byte[]>> dlq = rig.all(rig.dlq(), 100);
      assertEquals(1, dlq.size(), "one dead letter");
      Map<String, byte[]> dead = dlq.get(0).getBody();
      StreamMessage<String, byte[]> original = rig.all(rig.inbound(), 2000).stream()
          .collect(Collectors.toMap(StreamMessage::getId, Function.identity())).get(poisonStreamId);
      assertEquals(rig.inbound(), FailureRig.text(dead, DeadLetters.ORIGINAL_STREAM));
      assertEquals(poisonStreamId, FailureRig.text(dead, DeadLetters.ORIGINAL_ID));
      assertEquals(rig.group(), FailureRig.text(dead, DeadLetters.GROUP));
      assertEquals(rig.node.consumerName(), FailureRig.text(dead, DeadLetters.CONSUMER));
      assertEquals(String.valueOf(MAX_DELIVERIES), FailureRig.text(dead, DeadLetters.DELIVERIES));
      assertEquals(PoisonHandlerFactory.PoisonException.class.getName() + ": cannot digest " + poison.id(),
          FailureRig.text(dead, DeadLetters.ERROR));
      assertArrayEquals(original.getBody().get(StreamFields.DATA), dead.get(StreamFields.DATA),
          "the dead letter keeps the original bytes");
      assertEquals(poison, rig.probe.codec().decode(dead.get(StreamFields.DATA), InboundEnvelope.class));

      assertEquals(0, rig.pending(), "nothing left pending");
      assertTrue(rig.node.router().running(), "the consumer is still running");
    }
  }
}
