package io.sgstreams.gateway.fanout;

import io.sgstreams.core.bus.EntryIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.gateway.http.ApiError;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** In-process fan-out: waiters, subscribers, duplicates, bounds. No Redis needed. */
class ReplyHubTest {
  private final ReplyHub hub = new ReplyHub(new SimpleMeterRegistry(), 2);
  private long seq;

  private ReplyEvent reply(InboundEnvelope in, String content) {
    return new ReplyEvent("s", "1-" + (seq++), OutboundEnvelope.replyTo(in, "message", content));
  }

  @Test
  void waiterGetsItsReplyAndDuplicatesAreSuppressed() {
    InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "x");
    ReplyHub.Subscriber sub = hub.subscribe("default", "web", "c");
    ReplyHub.Waiter w = hub.await("default", in.id());
    ReplyEvent first = reply(in, "x");
    hub.dispatch(first);
    hub.dispatch(new ReplyEvent("s", "1-99", first.reply())); // redelivered copy: same in_reply_to + message_key
    StepVerifier.create(w.reply(Duration.ofSeconds(1))).expectNextMatches(r -> r.get().streamId().equals(first.streamId())).verifyComplete();
    sub.close();
    StepVerifier.create(sub.flux()).expectNext(first).verifyComplete();
    assertEquals(0, hub.waiting());
  }

  @Test
  void waitingRequestsAreBounded() {
    ReplyHub.Waiter a = hub.await("default", "a");
    ReplyHub.Waiter b = hub.await("default", "b");
    ApiError e = assertThrows(ApiError.class, () -> hub.await("default", "c"));
    assertEquals(503, e.status());
    a.cancel();
    b.cancel();
    assertEquals(0, hub.waiting());
  }

  @Test
  void aSlowSubscriberIsDisconnectedNotBufferedWithoutBound() {
    ReplyHub.Subscriber slow = hub.subscribe("default", "web", "busy");
    for (int i = 0; i < ReplyHub.SUBSCRIBER_QUEUE + 5; i++) {
      hub.dispatch(reply(InboundEnvelope.create("web", "busy", "u", "m" + i), "m" + i));
    }
    // the queued replies are dropped with the subscriber: it ends at once, not after draining
    StepVerifier.create(slow.flux())
        .expectError(SlowConsumerException.class)
        .verify(Duration.ofSeconds(5));
    // unregistered: later replies go nowhere and do not fail
    hub.dispatch(reply(InboundEnvelope.create("web", "busy", "u", "late"), "late"));
    assertTrue(EntryIds.compare("10-1", "9-5") > 0 && EntryIds.compare("5-2", "5-10") < 0);
  }
}
