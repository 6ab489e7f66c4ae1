package io.sgstreams.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.store.ApiKeys.NewKey;
import io.sgstreams.core.store.ApiKeys.StoredKey;
import io.sgstreams.core.testing.RedisScan;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Keys made at run time: stored hashed, found by digest, listed without the key, revoked by id. */
class ApiKeysTest {
  private final SgConfig config = TestRedis.config("keys-test");
  private final RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
  private final ApiKeys keys = bus.apiKeys();

  @AfterEach
  void close() {
    bus.close();
  }

  @Test
  void createFindListRevoke() {
    NewKey made = keys.create("acme", "ci bot").block();
    assertTrue(ApiKeys.looksLikeKey(made.key()), made.key());
    assertEquals(47, made.key().length());
    assertTrue(ApiKeys.ID.matcher(made.stored().id()).matches(), made.stored().id());
    assertFalse(made.toString().contains(made.key()));

    StoredKey found = keys.find(made.key()).block();
    assertEquals(made.stored(), found);
    assertEquals("acme", found.tenant());
    assertEquals(Optional.of("ci bot"), found.name());
    assertTrue(found.active());
    assertEquals(found, keys.get(found.id()).block());

    NewKey other = keys.create("globex", null).block();
    assertNotEquals(made.key(), other.key());
    assertEquals(Optional.empty(), keys.find(other.key()).block().name());
    assertEquals(List.of(made.stored(), other.stored()), keys.list().collectList().block());

    StoredKey revoked = keys.revoke(found.id()).block();
    assertTrue(revoked.revoked().isPresent());
    assertFalse(keys.find(made.key()).block().active(), "found, and revoked");
    // revoking again keeps the first time
    assertEquals(revoked.revoked(), keys.revoke(found.id()).block().revoked());
    assertTrue(keys.find(other.key()).block().active(), "the other key is untouched");
    assertEquals(2, keys.list().collectList().block().size(), "a revoked key stays listed");
  }

  @Test
  void unknownKeysAndIdsAreEmptyAndJunkIsNeverLookedUp() {
    assertNull(keys.find("sgk_" + "A".repeat(43)).block());
    assertNull(keys.find("not-a-key").block());
    assertNull(keys.find(null).block());
    assertNull(keys.get("kid_000000000000").block());
    assertNull(keys.revoke("kid_000000000000").block());
    assertNull(keys.revoke("*").block());
    assertNull(keys.revoke("kid_000000000000:x").block());
    assertEquals(List.of(), keys.list().collectList().block());
  }

  @Test
  void theKeyIsStoredOnlyAsItsDigest() {
    NewKey made = keys.create("acme", "n").block();
    keys.find(made.key()).block();
    keys.revoke(made.stored().id()).block();
    assertEquals(List.of(), RedisScan.whereFound(bus, made.key()));
    // the secret part alone is not stored either, nor its digest in the record's values
    assertEquals(List.of(), RedisScan.whereFound(bus, made.key().substring(4)));
    String digest = ApiKeys.digestHex(made.key());
    assertEquals(List.of(config.topology().apiKeyIndex(), config.topology().apiKeyRecord(digest)).stream().sorted().toList(),
        RedisScan.whereFound(bus, digest).stream().sorted().toList());
    assertEquals(digest, new String(bus.connections().commands().hget(config.topology().apiKeyIndex(),
        made.stored().id()).block(), StandardCharsets.UTF_8));
  }

  @Test
  void tenantsAndNamesAreChecked() {
    for (String bad : new String[] {"", "-x", "a:b", "a b", "x".repeat(65), null}) {
      assertThrows(IllegalArgumentException.class, () -> keys.create(bad, null), String.valueOf(bad));
    }
    assertThrows(IllegalArgumentException.class, () -> keys.create("acme", "line\nbreak"));
    assertThrows(IllegalArgumentException.class, () -> keys.create("acme", "n".repeat(201)));
    assertEquals("x".repeat(64), keys.create("x".repeat(64), "  ").block().stored().tenant());
  }
}
