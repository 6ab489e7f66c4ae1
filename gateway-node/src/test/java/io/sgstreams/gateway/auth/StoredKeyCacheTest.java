package io.sgstreams.gateway.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.store.ApiKeys.StoredKey;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The per-node memory of stored-key lookups: short-lived, bounded, found and not-found entries apart. */
class StoredKeyCacheTest {
  private final Map<String, StoredKey> redis = new HashMap<>();
  private final AtomicInteger lookups = new AtomicInteger();
  private final AtomicLong now = new AtomicLong();

  private StoredKeyCache cache(int max) {
    return new StoredKeyCache(k -> {
      lookups.incrementAndGet();
      return Mono.justOrEmpty(redis.get(k));
    }, id -> {
      lookups.incrementAndGet();
      return Mono.justOrEmpty(redis.values().stream().filter(r -> r.id().equals(id)).findFirst());
    }, Duration.ofSeconds(2), max, now::get);
  }

  private static StoredKey key(String id, boolean revoked) {
    return new StoredKey(id, "acme", Optional.empty(), Instant.EPOCH, revoked ? Optional.of(Instant.EPOCH) : Optional.empty());
  }

  @Test
  void theTtlIsWellUnderFiveSeconds() {
    assertTrue(StoredKeyCache.TTL.toMillis() <= 2_500, "with the SSE/WebSocket re-check, revocation must show within 5 s");
  }

  @Test
  void foundAndNotFoundAreRememberedForTheTtlOnly() {
    StoredKeyCache c = cache(100);
    redis.put("k1", key("kid_1", false));
    assertTrue(c.find("k1").block().orElseThrow().active());
    assertTrue(c.find("k1").block().orElseThrow().active());
    assertEquals(Optional.empty(), c.find("k2").block());
    assertEquals(Optional.empty(), c.find("k2").block());
    assertEquals(2, lookups.get());
    // revoked in Redis: still the cached answer until the TTL, then the new one
    redis.put("k1", key("kid_1", true));
    now.addAndGet(Duration.ofMillis(1999).toNanos());
    assertTrue(c.find("k1").block().orElseThrow().active());
    now.addAndGet(Duration.ofMillis(1).toNanos());
    assertFalse(c.find("k1").block().orElseThrow().active());
    assertEquals(3, lookups.get());
    // by id too
    assertFalse(c.get("kid_1").block().orElseThrow().active());
    assertEquals(Optional.empty(), c.get("kid_9").block());
  }

  @Test
  void aFloodOfMadeUpKeysNeverEvictsTheValidOnes() {
    StoredKeyCache c = cache(10);
    redis.put("good", key("kid_g", false));
    c.find("good").block();
    for (int i = 0; i < 1000; i++) {
      c.find("bad-" + i).block();
    }
    int before = lookups.get();
    c.find("good").block();
    assertEquals(before, lookups.get(), "still cached");
    assertEquals(1, c.sizes()[0]);
    assertEquals(10, c.sizes()[1], "not-found entries are bounded");
  }

  @Test
  void errorsAreNotCached() {
    AtomicInteger calls = new AtomicInteger();
    StoredKeyCache c = new StoredKeyCache(k -> calls.incrementAndGet() == 1
        ? Mono.error(new IllegalStateException("down")) : Mono.just(key("kid_1", false)), id -> Mono.empty(),
        Duration.ofSeconds(2), 10, now::get);
    assertThrows(IllegalStateException.class, () -> c.find("k").block());
    assertTrue(c.find("k").block().isPresent());
  }
}
