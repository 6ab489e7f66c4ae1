package io.sgstreams.gateway;

import static io.sgstreams.gateway.GatewayFixture.json;
import static io.sgstreams.gateway.GatewayFixture.message;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.store.ApiKeys;
import io.sgstreams.core.store.ApiKeys.NewKey;
import io.sgstreams.core.testing.RedisScan;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.gateway.auth.StoredKeyCache;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Keys made at run time ({@code sg keys create}, here through core's {@link ApiKeys} on the fixture's
 * bus): accepted by every gateway with auth on, carrying their stored tenant; refused by every gateway
 * within 5 s of being revoked; never stored in clear; limited per key and, with a tenant total, per tenant.
 */
class StoredKeysTest {
  private final GatewayFixture fx = new GatewayFixture();
  private final ApiKeys keys = fx.probe.apiKeys();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  private static Map<String, String> bearer(NewKey k) {
    return Map.of("Authorization", "Bearer " + k.key());
  }

  private List<InboundEnvelope> inbound() {
    List<InboundEnvelope> out = new ArrayList<>();
    for (StreamMessage<String, byte[]> m : Streams.all(fx.probe, fx.inbound())) {
      out.add((InboundEnvelope) fx.probe.codec().decode(m.getBody().get("data")));
    }
    return out;
  }

  @Test
  void aStoredKeyIsAcceptedWithItsTenantAndNeverStoredInClear() throws Exception {
    // SG_API_KEYS set (auth auto → on): its keys and stored keys are both accepted
    GatewayNode gw = fx.gateway("gw-a", "SG_API_KEYS", "ops:key-ops");
    NewKey acme = keys.create("acme", "ci").block();
    assertEquals(202, fx.post(gw, "/v1/messages", message("room", "stored"), bearer(acme)).statusCode());
    assertEquals(202, fx.post(gw, "/v1/messages", message("room", "x-api-key"), Map.of("X-API-Key", acme.key())).statusCode());
    assertEquals(202, fx.post(gw, "/v1/messages?api_key=" + acme.key(), message("room", "query"), Map.of()).statusCode());
    assertEquals(202, fx.post(gw, "/v1/messages", message("room", "configured"), Map.of("X-API-Key", "key-ops")).statusCode());
    assertEquals(List.of("acme", "acme", "acme", "ops"), inbound().stream().map(InboundEnvelope::tenantId).toList(),
        "the tenant of the stored record");
    // a made-up key of the generated form, and one of any other form: 403
    String madeUp = "sgk_" + "x".repeat(43);
    HttpResponse<String> unknown = fx.post(gw, "/v1/messages", message("room", "no"), Map.of("X-API-Key", madeUp));
    assertEquals(403, unknown.statusCode());
    assertEquals("forbidden", json(unknown).get("error").get("code").asText());
    assertEquals(403, fx.post(gw, "/v1/messages", message("room", "no"), Map.of("X-API-Key", "nope")).statusCode());
    assertEquals(4, Streams.length(fx.probe, fx.inbound()));
    // nowhere in Redis, under any key, is the key itself (nor its secret part)
    assertEquals(List.of(), RedisScan.whereFound(fx.probe, acme.key()));
    assertEquals(List.of(), RedisScan.whereFound(fx.probe, acme.key().substring(ApiKeys.KEY_PREFIX.length())));
  }

  @Test
  void sgAuthKeysNeedsNoSgApiKeysAndAuthOffIgnoresPresentedKeys() throws Exception {
    GatewayNode keysOnly = fx.gateway("gw-a", "SG_AUTH", "keys");
    NewKey acme = keys.create("acme", null).block();
    assertEquals(401, fx.post(keysOnly, "/v1/messages", message("room", "none"), Map.of()).statusCode());
    assertEquals(202, fx.post(keysOnly, "/v1/messages", message("room", "k"), bearer(acme)).statusCode());
    // auth off (auto without SG_API_KEYS, loopback): a presented key, stored or not, is no identity: tenant default
    GatewayNode open = fx.gateway("gw-b");
    assertEquals(202, fx.post(open, "/v1/messages", message("room", "k"), bearer(acme)).statusCode());
    GatewayNode off = fx.gateway("gw-c", "SG_AUTH", "off");
    assertEquals(202, fx.post(off, "/v1/messages", message("room", "none"), Map.of()).statusCode());
    assertEquals(List.of("acme", "default", "default"), inbound().stream().map(InboundEnvelope::tenant).toList());
  }

  @Test
  void aRevokedKeyIsRefusedByASecondGatewayWithinFiveSeconds() throws Exception {
    GatewayNode a = fx.gateway("gw-a", "SG_AUTH", "keys");
    GatewayNode b = fx.gateway("gw-b", "SG_AUTH", "keys");
    NewKey k = keys.create("acme", "to revoke").block();
    NewKey other = keys.create("acme", "stays").block();
    // both gateways have the key in their caches
    assertEquals(202, fx.post(a, "/v1/messages", message("room", "a"), bearer(k)).statusCode());
    assertEquals(202, fx.post(b, "/v1/messages", message("room", "b"), bearer(k)).statusCode());

    long revokedAt = System.nanoTime();
    keys.revoke(k.stored().id()).block(); // what 'sg keys revoke ID' does
    long[] refusedAfterMs = new long[2];
    GatewayNode[] nodes = {b, a};
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (int i = 0; i < nodes.length; i++) {
        if (refusedAfterMs[i] == 0) {
          HttpResponse<String> r = fx.post(nodes[i], "/v1/messages", message("room", "after"), bearer(k));
          if (r.statusCode() == 403) {
            refusedAfterMs[i] = Math.max(1, (System.nanoTime() - revokedAt) / 1_000_000);
            assertEquals("forbidden", json(r).get("error").get("code").asText());
            assertTrue(json(r).get("error").get("message").asText().contains("revoked"), r.body());
          } else {
            assertEquals(202, r.statusCode(), r.body());
          }
        }
      }
      return refusedAfterMs[0] > 0 && refusedAfterMs[1] > 0;
    });
    System.out.printf("revoked key refused by the second gateway after %d ms, by the first after %d ms (cache TTL %d ms)%n",
        refusedAfterMs[0], refusedAfterMs[1], StoredKeyCache.TTL.toMillis());
    assertTrue(refusedAfterMs[0] < 5_000 && refusedAfterMs[1] < 5_000,
        "refused after " + refusedAfterMs[0] + " / " + refusedAfterMs[1] + " ms");
    // the same tenant's other key is untouched, and the revoked one stays refused
    assertEquals(202, fx.post(b, "/v1/messages", message("room", "other"), bearer(other)).statusCode());
    Thread.sleep(StoredKeyCache.TTL.toMillis() + 200);
    assertEquals(403, fx.post(a, "/v1/messages", message("room", "still"), bearer(k)).statusCode());
  }

  @Test
  void aHeldSseStreamEndsWhenItsKeyIsRevoked() throws Exception {
    GatewayNode gw = fx.gateway("gw-a", "SG_AUTH", "keys");
    NewKey k = keys.create("acme", null).block();
    NewKey other = keys.create("acme", null).block();
    try (SseClient revoked = new SseClient(fx.http, gw.port(), "/v1/channels/room/events?api_key=" + k.key(), Map.of());
         SseClient kept = new SseClient(fx.http, gw.port(), "/v1/channels/room/events", bearer(other))) {
      assertEquals(200, revoked.status);
      long t0 = System.nanoTime();
      keys.revoke(k.stored().id()).block();
      await().atMost(Duration.ofSeconds(10)).until(() -> revoked.ended);
      System.out.printf("an SSE stream of a revoked key ended after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
      assertFalse(kept.ended, "another key's stream goes on");
      await().atMost(Duration.ofSeconds(5)).until(() ->
          fx.post(gw, "/v1/messages", message("room", "x"), bearer(k)).statusCode() == 403);
    }
  }

  @Test
  void aTenantTotalIsSharedByItsKeysOnTopOfEachKeysOwnLimit() throws Exception {
    awayFromAMinuteBoundary();
    GatewayNode a = fx.gateway("gw-a", "SG_AUTH", "keys", "SG_RATE_LIMIT_PER_MINUTE", "3",
        "SG_TENANT_RATE_LIMIT_PER_MINUTE", "4");
    GatewayNode b = fx.gateway("gw-b", "SG_AUTH", "keys", "SG_RATE_LIMIT_PER_MINUTE", "3",
        "SG_TENANT_RATE_LIMIT_PER_MINUTE", "4");
    NewKey k1 = keys.create("acme", "one").block();
    NewKey k2 = keys.create("acme", "two").block();
    NewKey g = keys.create("globex", null).block();
    assertEquals(202, fx.post(a, "/v1/messages", message("r", "1"), bearer(k1)).statusCode());
    assertEquals(202, fx.post(b, "/v1/messages", message("r", "2"), bearer(k1)).statusCode());
    assertEquals(202, fx.post(a, "/v1/messages", message("r", "3"), bearer(k1)).statusCode());
    // k1's own limit (3) is reached: refused, and that does not use up the tenant's total
    HttpResponse<String> own = fx.post(b, "/v1/messages", message("r", "4"), bearer(k1));
    assertEquals(429, own.statusCode());
    assertFalse(json(own).get("error").get("message").asText().contains("tenant"), own.body());
    // k2 has its own 3, but the tenant has 4 in all: one more, then 429 naming the tenant
    assertEquals(202, fx.post(b, "/v1/messages", message("r", "5"), bearer(k2)).statusCode());
    HttpResponse<String> total = fx.post(a, "/v1/messages", message("r", "6"), bearer(k2));
    assertEquals(429, total.statusCode());
    assertEquals("rate_limited", json(total).get("error").get("code").asText());
    assertTrue(json(total).get("error").get("message").asText().contains("tenant acme"), total.body());
    long retryAfter = Long.parseLong(total.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
    // another tenant is not affected
    assertEquals(202, fx.post(b, "/v1/messages", message("r", "7"), bearer(g)).statusCode());
    assertEquals(5, Streams.length(fx.probe, fx.inbound()));
  }

  /** Rate-limit windows are whole minutes: start a test that counts within one well inside it. */
  private static void awayFromAMinuteBoundary() throws InterruptedException {
    long intoMinute = System.currentTimeMillis() % 60_000;
    if (intoMinute > 45_000) {
      Thread.sleep(60_000 - intoMinute + 200);
    }
  }
}
