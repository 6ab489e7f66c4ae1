package io.sgstreams.launcher;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.RedisScan;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.gateway.GatewayNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code sg keys create | list | revoke} end to end, through {@link Sg#run}, against a gateway on real Redis. */
class KeysCommandTest {
  private record Run(int status, String out, String err) {}

  private final String ns = TestRedis.namespace();
  private final String redisUrl = TestRedis.url();
  private final HttpClient http = HttpClient.newHttpClient();
  private RedisEventBus bus;
  private GatewayNode gateway;

  @AfterEach
  void close() {
    if (gateway != null) {
      gateway.shutdown().block(Duration.ofSeconds(20));
    }
    if (bus != null) {
      bus.close();
    }
  }

  /** The variables an operator would set for this test's Redis and namespace. */
  private Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("HOSTNAME", "keys-test", "REDIS_URL", redisUrl,
        "SG_KEYS_PREFIX", ns + ":keys"));
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** A gateway with SG_AUTH=keys on a free port, streams and keys under this test's namespace. */
  private GatewayNode startGateway() {
    Map<String, String> e = env("SG_AUTH", "keys", "SG_HTTP_PORT", "0", "SG_NODE_ID", "keys-gw");
    SgConfig loaded = ConfigLoader.load(null, e);
    SgConfig config = loaded.withTopology(loaded.topology().withNamespace(ns)).withConsumer(TestRedis.config("x").consumer());
    assertEquals(ns + ":keys", config.topology().keysPrefix());
    bus = RedisEventBus.connect(Role.GATEWAY, config, new SimpleMeterRegistry());
    gateway = GatewayNode.start(bus, config.gateway(), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    return gateway;
  }

  private int post(String key, String content) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port() + "/v1/messages"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + key)
        .POST(HttpRequest.BodyPublishers.ofString("{\"channel_id\":\"c\",\"user_id\":\"u\",\"content\":\"" + content + "\"}"))
        .build();
    return http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  @Test
  void createUseListRevoke() throws Exception {
    startGateway();
    Run created = sg(env(), "keys", "create", "--tenant", "acme", "--name", "ci bot");
    assertEquals(0, created.status(), created.err());
    String key = field(created.out(), "key");
    String id = field(created.out(), "id");
    assertTrue(key.startsWith("sgk_") && key.length() == 47, created.out());
    assertTrue(id.startsWith("kid_"), created.out());
    assertEquals("acme", field(created.out(), "tenant"));
    assertEquals("ci bot", field(created.out(), "name"));
    assertTrue(created.err().contains("shown only now"), created.err());

    Run json = sg(env(), "keys", "create", "--tenant", "globex", "--json");
    assertEquals(0, json.status(), json.err());
    JsonNode other = new ObjectMapper().readTree(json.out());
    assertEquals("globex", other.get("tenant").asText());
    assertTrue(other.get("name").isNull());
    assertTrue(other.get("key").asText().startsWith("sgk_"));

    // use: the gateway takes it, the message carries the key's tenant
    assertEquals(202, post(key, "hello"));
    assertEquals(202, post(other.get("key").asText(), "hi"));
    List<String> tenants = Streams.all(bus, bus.topology().inboundStream()).stream()
        .map(m -> ((InboundEnvelope) bus.codec().decode(m.getBody().get("data"))).tenantId()).toList();
    assertEquals(List.of("acme", "globex"), tenants);

    // list: ids, tenants, names, times; never a key
    Run list = sg(env(), "keys", "list");
    assertEquals(0, list.status(), list.err());
    assertTrue(list.out().startsWith("ID "), list.out());
    assertTrue(list.out().matches("(?s).*\\n" + id + " +acme +ci bot +\\d{4}-\\d\\d-\\d\\dT[0-9:]+Z +-\\n.*"), list.out());
    assertFalse(list.out().contains(key) || list.out().contains(other.get("key").asText()), list.out());
    Run listJson = sg(env(), "keys", "list", "--json");
    assertEquals(0, listJson.status(), listJson.err());
    JsonNode keys = new ObjectMapper().readTree(listJson.out()).get("keys");
    assertEquals(2, keys.size());
    assertEquals(id, keys.get(0).get("id").asText());
    assertEquals("ci bot", keys.get(0).get("name").asText());
    assertTrue(keys.get(0).get("revoked").isNull());
    assertFalse(listJson.out().contains("sgk_"), listJson.out());
    Run onlyGlobex = sg(env(), "keys", "list", "--tenant", "globex", "--json");
    assertEquals(1, new ObjectMapper().readTree(onlyGlobex.out()).get("keys").size());

    // revoke: refused within 5 s, listed as revoked; revoking again says so
    Run revoked = sg(env(), "keys", "revoke", id);
    long t0 = System.nanoTime();
    assertEquals(0, revoked.status(), revoked.err());
    assertTrue(revoked.out().startsWith("revoked " + id + " (tenant acme, ci bot) at "), revoked.out());
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> post(key, "again") == 403);
    System.out.printf("sg keys revoke: the gateway refused the key after %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    assertEquals(202, post(other.get("key").asText(), "still fine"));
    JsonNode after = new ObjectMapper().readTree(sg(env(), "keys", "list", "--json").out()).get("keys");
    assertFalse(after.get(0).get("revoked").isNull());
    assertTrue(after.get(1).get("revoked").isNull());
    Run again = sg(env(), "keys", "revoke", id);
    assertEquals(0, again.status(), again.err());
    assertTrue(again.out().contains("already revoked"), again.out());

    // nowhere in Redis in clear
    assertEquals(List.of(), RedisScan.whereFound(bus, key));
    assertEquals(List.of(), RedisScan.whereFound(bus, other.get("key").asText()));
  }

  @Test
  void usageAndConfigurationErrors() {
    Run none = sg(env(), "keys");
    assertEquals(2, none.status());
    assertTrue(none.err().contains("Usage: sg keys"), none.err());
    for (String sub : List.of("create", "list", "revoke")) {
      Run help = sg(env(), "keys", sub, "--help");
      assertEquals(0, help.status(), sub);
      assertTrue(help.out().startsWith("Usage: sg keys " + sub), help.out());
    }
    Run noTenant = sg(env(), "keys", "create");
    assertEquals(2, noTenant.status());
    assertTrue(noTenant.err().contains("--tenant"), noTenant.err());
    Run badTenant = sg(env(), "keys", "create", "--tenant", "a:b");
    assertEquals(2, badTenant.status());
    assertTrue(badTenant.err().contains("--tenant must be"), badTenant.err());
    Run badId = sg(env(), "keys", "revoke", "*");
    assertEquals(2, badId.status());
    assertTrue(badId.err().contains("is not a key id"), badId.err());
    Run unknown = sg(env(), "keys", "revoke", "kid_000000000000");
    assertEquals(1, unknown.status());
    assertTrue(unknown.err().contains("no key has the id kid_000000000000"), unknown.err());
    Map<String, String> noRedis = env();
    noRedis.remove("REDIS_URL");
    Run missing = sg(noRedis, "keys", "list");
    assertEquals(2, missing.status());
    assertTrue(missing.err().contains("configuration error: REDIS_URL"), missing.err());
    Run empty = sg(env(), "keys", "list");
    assertEquals(0, empty.status(), empty.err());
    assertEquals(1, empty.out().lines().count(), "the header only: " + empty.out());
  }

  private static String field(String out, String name) {
    return out.lines().filter(l -> l.startsWith(name + " ")).map(l -> l.substring(name.length()).strip()).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in\n" + out));
  }
}
