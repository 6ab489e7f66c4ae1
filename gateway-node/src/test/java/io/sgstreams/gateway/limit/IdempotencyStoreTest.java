package io.sgstreams.gateway.limit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.http.Json;
import io.sgstreams.gateway.limit.IdempotencyStore.State;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The record's life against a real Redis: claim, bind, complete, release, expiry, and what may not overwrite what. */
class IdempotencyStoreTest {
  private final RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, TestRedis.config("idem"));
  private final IdempotencyStore store = new IdempotencyStore(bus, Duration.ofHours(1), Duration.ofSeconds(90));
  private final Caller caller = new Caller("acme", "key-0011223344556677", null);

  @AfterEach
  void close() {
    bus.close();
  }

  private long pttl(String key) {
    return bus.connections().commands().pttl(key).block();
  }

  private static InboundEnvelope message() {
    return InboundEnvelope.create("web", "c", "u", "hi").withTenant("acme");
  }

  @Test
  void aClaimIsShortLivedUntilThePublishBindsIt() {
    String key = store.key(caller, "order-1");
    InboundEnvelope in = message();
    assertTrue(store.claim(key, in).block());
    assertFalse(store.claim(key, message()).block(), "one claim per key");
    long pending = pttl(key);
    assertTrue(pending > 0 && pending <= 90_000, "a claim expires after max wait + margin: " + pending);
    assertEquals(State.PENDING, store.read(key).block().orElseThrow().state());

    assertTrue(store.bind(key, in, "1-0").block());
    assertTrue(pttl(key) > 90_000, "bound for the idempotency TTL");
    var bound = store.read(key).block().orElseThrow();
    assertEquals(State.PUBLISHED, bound.state());
    assertEquals(in.id(), bound.messageId());
    assertEquals("1-0", bound.streamId());
    assertEquals(in.correlationId(), bound.correlationId());
  }

  @Test
  void theFirstReplyToTheBoundMessageCompletesTheRecordAndNothingElseDoes() {
    String key = store.key(caller, "order-2");
    InboundEnvelope in = message();
    store.claim(key, in).block();
    store.bind(key, in, "2-0").block();
    assertFalse(store.complete(key, "another-message", Json.object().put("content", "not mine")).block());
    assertTrue(store.complete(key, in.id(), Json.object().put("content", "first")).block());
    assertFalse(store.complete(key, in.id(), Json.object().put("content", "second")).block(), "the first reply wins");
    var r = store.read(key).block().orElseThrow();
    assertEquals(State.REPLIED, r.state());
    assertEquals("first", r.reply().get("content").asText());
    assertEquals("2-0", r.streamId(), "what the record knew of the message stays");
    // a late bind (the reply was stored first) does not move it back
    assertFalse(store.bind(key, in, "2-0").block());
    assertEquals(State.REPLIED, store.read(key).block().orElseThrow().state());
  }

  @Test
  void aReplyBeforeTheBindingStillCompletesTheClaim() {
    String key = store.key(caller, "order-3");
    InboundEnvelope in = message();
    store.claim(key, in).block();
    assertTrue(store.complete(key, in.id(), Json.object().put("content", "fast")).block());
    var r = store.read(key).block().orElseThrow();
    assertEquals(State.REPLIED, r.state());
    assertNull(r.streamId());
    assertTrue(pttl(key) > 90_000);
  }

  @Test
  void aReleaseFreesOnlyItsOwnPendingClaim() {
    String key = store.key(caller, "order-4");
    InboundEnvelope in = message();
    store.claim(key, in).block();
    assertFalse(store.release(key, message()).block(), "another request's claim is not ours to free");
    assertTrue(store.release(key, in).block());
    assertTrue(store.read(key).block().isEmpty());
    InboundEnvelope next = message();
    assertTrue(store.claim(key, next).block());
    store.bind(key, next, "4-0").block();
    assertFalse(store.release(key, next).block(), "a published message's key is never released");
  }

  @Test
  void aClaimNeverBoundExpiresOnItsOwn() {
    // a gateway that died between the claim and the publish: the key is free again after the short expiry
    IdempotencyStore quick = new IdempotencyStore(bus, Duration.ofHours(1), Duration.ofMillis(300));
    String key = quick.key(caller, "crashed");
    assertTrue(quick.claim(key, message()).block());
    await().atMost(Duration.ofSeconds(10)).until(() -> quick.claim(key, message()).block());
  }

  @Test
  void keysAreScopedToTheTenant() {
    String key = store.key(caller, "k");
    assertTrue(store.belongsTo("acme", key));
    assertFalse(store.belongsTo("globex", key));
    assertFalse(store.belongsTo("acm", key));
  }
}
