package io.sgstreams.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sgstreams.core.topology.Role;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path dir;

  @Test
  void defaultsFollowTheWireContract() {
    SgConfig c = ConfigLoader.load(null, Map.of("SG_NODE_ID", "n1"));
    Topology t = c.topology();
    assertEquals("sg:stream:inbound", t.inboundStream());
    assertEquals("sg:workers", t.workerGroup());
    assertEquals("sg:stream:outbound:web", t.outboundStream("web"));
    assertEquals("sg:gateway:web", t.gatewayGroup("web"));
    assertEquals("sg:stream:tools", t.toolsStream());
    assertEquals("sg:tools", t.toolsGroup());
    assertEquals("sg:stream:tools:reply:worker-7", t.toolsReplyStream("worker-7"));
    assertEquals("sg:stream:dlq", t.dlqStream());
    assertEquals(100_000, t.maxLen());
    assertEquals(5, c.consumer().maxDeliveries());
    assertEquals(Duration.ofSeconds(60), c.consumer().claimMinIdle());
    assertEquals(Duration.ofSeconds(5), c.consumer().claimInterval());
    assertEquals("n1", c.nodeId());
    assertTrue(c.redisUrl().isEmpty());
  }

  @Test
  void theRepositoryStreamsYamlStatesExactlyTheDefaults() throws IOException {
    Path root = Path.of("..", "streams.yaml");
    SgConfig fromFile = ConfigLoader.load(root, Map.of("SG_NODE_ID", "n1"));
    assertEquals(SgConfig.defaults("n1"), fromFile);
    // and states every setting of every section, with its variable named beside it
    JsonNode yaml = new ObjectMapper(new YAMLFactory()).readTree(root.toFile());
    String text = Files.readString(root);
    for (Setting<?> s : ConfigSchema.settings()) {
      assertTrue(yaml.path(s.section()).has(s.name()), "streams.yaml lacks " + s.key());
      assertTrue(text.matches("(?s).*\\n  " + Pattern.quote(s.name()) + ":[^\\n]*# " + Pattern.quote(s.env()) + "\\b.*"),
          "streams.yaml does not name " + s.env() + " beside " + s.key());
    }
    // every value there is the default (an empty one means unset)
    LoadedConfig loaded = ConfigLoader.read(root, Map.of("SG_NODE_ID", "n1"));
    for (LoadedConfig.Effective e : loaded.settings()) {
      if (e.source().kind() == ConfigSource.Kind.FILE) {
        assertEquals(e.setting().defaultValue(), e.text(), e.setting().key());
      }
    }
  }

  @Test
  void environmentOverridesYamlWhichOverridesDefaults() throws IOException {
    Path f = dir.resolve("streams.yaml");
    Files.writeString(f, """
        streams:
          inbound: app:in
          maxlen: 5000
          platforms: [web, slack]
        consumer:
          read_count: 7
          max_deliveries: 3
        """);
    SgConfig c = ConfigLoader.load(f, Map.of(
        "SG_NODE_ID", "pod-1",
        "SG_STREAM_MAXLEN", "20000",
        "SG_WORKER_GROUP", "app:workers",
        "SG_CLAIM_MIN_IDLE_MS", "1500",
        "SG_READ_BLOCK_MS", "250",
        "SG_WORKER_CONCURRENCY", "8",
        "REDIS_URL", "redis://10.0.0.1:6380"));
    assertEquals("app:in", c.topology().inboundStream());
    assertEquals("app:workers", c.topology().workerGroup());
    assertEquals(20_000, c.topology().maxLen());
    assertEquals(List.of("web", "slack"), c.topology().platforms());
    assertEquals(7, c.consumer().readCount());
    assertEquals(3, c.consumer().maxDeliveries());
    assertEquals(Duration.ofMillis(1500), c.consumer().claimMinIdle());
    assertEquals(Duration.ofMillis(250), c.consumer().readBlock());
    assertEquals(8, c.consumer().concurrency());
    assertEquals("redis://10.0.0.1:6380", c.redisUrl().orElseThrow());
  }

  @Test
  void maxlenBelowTheFloorIsRaised() {
    SgConfig c = ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_STREAM_MAXLEN", "10"));
    assertEquals(Topology.MIN_MAXLEN, c.topology().maxLen());
  }

  @Test
  void aBadEnvironmentValueNamesTheVariableAndTheValue() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_READ_COUNT", "lots")));
    assertEquals("SG_READ_COUNT", e.key());
    assertEquals("lots", e.value());
    assertEquals("SG_READ_COUNT='lots' (consumer.read_count): must be an integer", e.getMessage());
    assertEquals("consumer.read_count", e.setting());
    assertEquals("SG_READ_COUNT", e.variable());

    e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_CLAIM_INTERVAL_MS", "-5")));
    assertEquals("SG_CLAIM_INTERVAL_MS", e.key());

    e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(null, Map.of("SG_NODE_ID", "bad:id")));
    assertEquals("SG_NODE_ID", e.key());

    e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_INBOUND_STREAM", "has space")));
    assertEquals("SG_INBOUND_STREAM", e.key());
  }

  @Test
  void aBadYamlValueOrUnknownKeyIsNamed() throws IOException {
    Path f = dir.resolve("bad.yaml");
    Files.writeString(f, "consumer:\n  max_deliveries: zero\n");
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, Map.of("SG_NODE_ID", "n")));
    assertEquals("consumer.max_deliveries", e.key());
    assertEquals("zero", e.value());
    assertEquals("consumer.max_deliveries='zero' in " + f + " (or SG_MAX_DELIVERIES): must be an integer", e.getMessage());

    Files.writeString(f, "consumer:\n  max_delivery: 3\n");
    e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, Map.of("SG_NODE_ID", "n")));
    assertEquals("consumer.max_delivery", e.key());

    Files.writeString(f, "consumers: {}\n");
    e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, Map.of("SG_NODE_ID", "n")));
    assertEquals("consumers", e.key());

    Files.writeString(f, "consumer: [1, 2\n");
    e = assertThrows(ConfigException.class, () -> ConfigLoader.load(f, Map.of("SG_NODE_ID", "n")));
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
  }

  @Test
  void everyRoleSectionHasItsDefaults() {
    SgConfig c = ConfigLoader.load(null, Map.of("SG_NODE_ID", "n"));
    assertEquals("127.0.0.1", c.gateway().host());
    assertEquals(8080, c.gateway().port());
    assertEquals(List.of(), c.gateway().apiKeys());
    assertEquals(Duration.ofSeconds(30), c.gateway().maxWait());
    assertEquals(Duration.ofDays(1), c.gateway().idempotencyTtl());
    assertTrue(c.gateway().webhookUrl().isEmpty());
    assertEquals("echo", c.worker().handler());
    assertEquals(9090, c.worker().adminPort());
    assertEquals(Duration.ofSeconds(30), c.worker().toolCallTimeout());
    assertEquals(Duration.ofSeconds(120), c.worker().handlerTimeout());
    assertEquals("https://api.openai.com/v1", c.worker().openAiBaseUrl());
    assertEquals("gpt-4o-mini", c.worker().openAiModel());
    assertTrue(c.worker().openAiApiKey().isEmpty());
    assertEquals(9090, c.tools().adminPort());
    assertEquals(Duration.ofSeconds(10), c.tools().toolTimeout());
    assertEquals(1000, c.tools().calcMaxExprChars());
    assertEquals(Duration.ofMinutes(10), c.topology().toolsReplyTtl());
    assertEquals(6399, c.redis().embeddedPort());
    assertEquals(Path.of(System.getProperty("java.io.tmpdir"), "sg-redis-n"), c.redis().embeddedDir());
  }

  @Test
  void roleSectionsReadTheirVariablesAndTheirYamlKeys() throws IOException {
    Path f = dir.resolve("streams.yaml");
    Files.writeString(f, """
        gateway:
          port: 9000
          api_keys: [a, b]
        worker:
          handler: openai
          openai_base_url: http://localhost:1234/v1/
        tools:
          calc_max_expr_chars: 50
        """);
    SgConfig c = ConfigLoader.load(f, Map.of("SG_NODE_ID", "n", "SG_HTTP_PORT", "9001", "OPENAI_API_KEY", "sk-secret",
        "SG_TOOL_CALL_TIMEOUT_MS", "250", "SG_TOOL_TIMEOUT_MS", "400", "SG_TOOLS_REPLY_TTL_MS", "60000"));
    assertEquals(9001, c.gateway().port());
    assertEquals(List.of("a", "b"), c.gateway().apiKeys());
    assertEquals("openai", c.worker().handler());
    assertEquals("http://localhost:1234/v1", c.worker().openAiBaseUrl());
    assertEquals("sk-secret", c.worker().openAiApiKey().orElseThrow());
    assertFalse(c.worker().toString().contains("sk-secret"));
    assertEquals(Duration.ofMillis(250), c.worker().toolCallTimeout());
    assertEquals(Duration.ofMillis(400), c.tools().toolTimeout());
    assertEquals(50, c.tools().calcMaxExprChars());
    assertEquals(Duration.ofMinutes(1), c.topology().toolsReplyTtl());
  }

  @Test
  void badRoleValuesNameTheVariable() {
    for (String[] bad : new String[][] {
        {"SG_WORKER_ADMIN_PORT", "http"}, {"SG_WORKER_ADMIN_PORT", "70000"}, {"SG_TOOL_CALL_TIMEOUT_MS", "0"},
        {"OPENAI_BASE_URL", "not a url"}, {"SG_TOOLS_ADMIN_PORT", "-2"}, {"SG_TOOL_TIMEOUT_MS", "0"},
        {"SG_TOOL_TIMEOUT_MS", "600001"}, {"SG_CALC_MAX_EXPR_CHARS", "-5"}, {"SG_TOOLS_REPLY_TTL_MS", "5"},
        {"SG_MAX_WAIT_SECONDS", "lots"}, {"SG_WEBHOOK_URL", "ftp://x"}, {"REDIS_URL", "localhost:6379"},
        {"SG_EMBEDDED_REDIS_PORT", "65536"}}) {
      ConfigException e = assertThrows(ConfigException.class,
          () -> ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", bad[0], bad[1])), bad[0]);
      assertEquals(bad[0], e.key());
      assertEquals(bad[1], e.value());
      assertTrue(e.getMessage().startsWith(bad[0] + "='" + bad[1] + "' (") && e.getMessage().contains(e.setting()),
          e.getMessage());
    }
  }

  @Test
  void aNonLoopbackGatewayNeedsApiKeys() {
    GatewayConfig open = ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_HTTP_HOST", "0.0.0.0")).gateway();
    ConfigException e = assertThrows(ConfigException.class, open::requireAuthUnlessLoopback);
    assertEquals("SG_API_KEYS", e.key());
    ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_HTTP_HOST", "0.0.0.0", "SG_API_KEYS", "a, b"))
        .gateway().requireAuthUnlessLoopback();
    GatewayConfig.defaults().requireAuthUnlessLoopback();
  }

  @Test
  void sgAuthDecidesWhetherKeysAreNeededAndOffIsLoopbackOnly() {
    java.util.function.Function<String[], GatewayConfig> g = kv -> {
      Map<String, String> env = new java.util.HashMap<>(Map.of("SG_NODE_ID", "n"));
      for (int i = 0; i < kv.length; i += 2) {
        env.put(kv[i], kv[i + 1]);
      }
      return ConfigLoader.load(null, env).gateway();
    };
    // auto (the default): on exactly when SG_API_KEYS is set, as before stored keys existed
    assertEquals(GatewayConfig.Auth.AUTO, GatewayConfig.defaults().auth());
    assertFalse(GatewayConfig.defaults().authEnabled());
    assertTrue(g.apply(new String[] {"SG_API_KEYS", "k"}).authEnabled());
    // keys: on, with or without SG_API_KEYS, on any address
    GatewayConfig keys = g.apply(new String[] {"SG_AUTH", "keys", "SG_HTTP_HOST", "0.0.0.0"});
    assertTrue(keys.authEnabled());
    keys.requireAuthUnlessLoopback();
    assertEquals(GatewayConfig.Auth.KEYS, g.apply(new String[] {"SG_AUTH", "KEYS"}).auth());
    // off: loopback only, and never together with keys
    GatewayConfig off = g.apply(new String[] {"SG_AUTH", "off"});
    assertFalse(off.authEnabled());
    off.requireAuthUnlessLoopback();
    ConfigException openOff = assertThrows(ConfigException.class,
        g.apply(new String[] {"SG_AUTH", "off", "SG_HTTP_HOST", "0.0.0.0"})::requireAuthUnlessLoopback);
    assertEquals("SG_AUTH", openOff.key());
    ConfigException offWithKeys = assertThrows(ConfigException.class,
        g.apply(new String[] {"SG_AUTH", "off", "SG_API_KEYS", "k"})::requireAuthUnlessLoopback);
    assertEquals("SG_AUTH", offWithKeys.key());
    assertTrue(offWithKeys.getMessage().contains("SG_API_KEYS"), offWithKeys.getMessage());
    // auto on a public address without SG_API_KEYS: the error points at SG_AUTH=keys too
    ConfigException open = assertThrows(ConfigException.class,
        g.apply(new String[] {"SG_HTTP_HOST", "0.0.0.0"})::requireAuthUnlessLoopback);
    assertEquals("SG_API_KEYS", open.key());
    assertTrue(open.getMessage().contains("SG_AUTH=keys"), open.getMessage());
    ConfigException bad = assertThrows(ConfigException.class, () -> g.apply(new String[] {"SG_AUTH", "maybe"}));
    assertEquals("SG_AUTH", bad.key());
    assertTrue(bad.getMessage().contains("must be auto, keys or off"), bad.getMessage());
    assertEquals(0, GatewayConfig.defaults().tenantRateLimitPerMinute());
    assertEquals(50, g.apply(new String[] {"SG_TENANT_RATE_LIMIT_PER_MINUTE", "50"}).tenantRateLimitPerMinute());
    assertEquals("sg:keys:index", Topology.defaults().apiKeyIndex());
    assertEquals("sg:keys:digest:ab12", Topology.defaults().apiKeyRecord("ab12"));
    assertEquals("sg:stream:inbound:ratelimit:tenant:acme-7", Topology.defaults().tenantRateLimitKey("acme", 7));
  }

  @Test
  void formerVariableNamesAreReadWithAWarning() {
    LoadedConfig old = ConfigLoader.read(null, Map.of("SG_NODE_ID", "n", "SG_ADMIN_PORT", "9100",
        "SG_ADMIN_HOST", "0.0.0.0", "SG_TOOL_TIMEOUT_MS", "2000"));
    assertEquals(9100, old.config().worker().adminPort());
    assertEquals(9100, old.config().tools().adminPort());
    assertEquals("0.0.0.0", old.config().worker().adminHost());
    assertEquals("0.0.0.0", old.config().tools().adminHost());
    // SG_TOOL_TIMEOUT_MS is the tools node's limit now, and still the worker's wait when SG_TOOL_CALL_TIMEOUT_MS is unset
    assertEquals(Duration.ofSeconds(2), old.config().tools().toolTimeout());
    assertEquals(Duration.ofSeconds(2), old.config().worker().toolCallTimeout());
    assertEquals(ConfigSource.env("SG_ADMIN_PORT"), effective(old, "worker.admin_port").source());
    List<String> worker = old.warningsFor(Role.WORKER).stream().map(LoadedConfig.Warning::message).toList();
    assertEquals(3, worker.size(), worker.toString());
    assertTrue(worker.stream().anyMatch(w -> w.startsWith("SG_TOOL_TIMEOUT_MS now sets tools.timeout_ms")), worker.toString());
    assertTrue(worker.stream().anyMatch(w -> w.contains("SG_ADMIN_PORT is the former name of SG_WORKER_ADMIN_PORT")), worker.toString());
    assertEquals(2, old.warningsFor(Role.TOOLS).size(), old.warningsFor(Role.TOOLS).toString());
    assertEquals(0, old.warningsFor(Role.GATEWAY).size());
    assertEquals(5, old.warningsFor(Role.STANDALONE).size());

    LoadedConfig both = ConfigLoader.read(null, Map.of("SG_NODE_ID", "n", "SG_ADMIN_PORT", "9100",
        "SG_WORKER_ADMIN_PORT", "9200", "SG_TOOL_TIMEOUT_MS", "2000", "SG_TOOL_CALL_TIMEOUT_MS", "3000"));
    assertEquals(9200, both.config().worker().adminPort());
    assertEquals(9100, both.config().tools().adminPort());
    assertEquals(Duration.ofSeconds(3), both.config().worker().toolCallTimeout());
    assertEquals(Duration.ofSeconds(2), both.config().tools().toolTimeout());
    assertTrue(both.warningsFor(Role.WORKER).stream()
        .anyMatch(w -> w.message().equals("SG_ADMIN_PORT is ignored for worker.admin_port: SG_WORKER_ADMIN_PORT is set")));
  }

  @Test
  void everyEffectiveValueSaysWhereItCameFromAndSecretsAreMasked() throws IOException {
    Path f = dir.resolve("streams.yaml");
    Files.writeString(f, "consumer:\n  read_count: 7\ngateway:\n  api_keys: [k1, k2]\n");
    LoadedConfig c = ConfigLoader.read(f, Map.of("HOSTNAME", "box:1", "REDIS_URL", "redis://user:pw@10.0.0.1:6380/0",
        "OPENAI_API_KEY", "sk-secret", "SG_READ_BLOCK_MS", "250", "SG_WEBHOOK_URL", "https://hooks.example.com/x"));
    assertEquals(ConfigSchema.settings().size(), c.settings().size());
    assertEquals("box-1", c.config().nodeId());
    assertEquals(new LoadedConfig.Effective(ConfigSchema.Node.ID, "box-1", ConfigSource.defaults("the host name")),
        effective(c, "node.id"));
    assertEquals(ConfigSource.file(f), effective(c, "consumer.read_count").source());
    assertEquals(ConfigSource.env("SG_READ_BLOCK_MS"), effective(c, "consumer.read_block_ms").source());
    assertEquals(ConfigSource.defaults(null), effective(c, "consumer.ack_batch").source());
    assertEquals("redis://user:****@10.0.0.1:6380/0", effective(c, "redis.url").shown());
    assertEquals("****", effective(c, "gateway.api_keys").shown());
    assertEquals("****", effective(c, "worker.openai_api_key").shown());
    assertEquals("https://hooks.example.com/x", effective(c, "gateway.webhook_url").shown());
    assertEquals("redis://****@h:1", ConfigSchema.Redis.URL.mask("redis://pw@h:1"));
    assertEquals("redis://h:1", ConfigSchema.Redis.URL.mask("redis://h:1"));
    assertNull(effective(c, "worker.openai_system_prompt").shown());
    // sections of other roles are not a worker's
    assertTrue(c.settingsFor(Role.WORKER).stream().noneMatch(e -> e.setting().section().equals("gateway")));
    assertTrue(c.settingsFor(Role.WORKER).stream().noneMatch(e -> e.setting().key().startsWith("redis.embedded")));
    assertEquals(c.settings(), c.settingsFor(Role.STANDALONE));
  }

  @Test
  void anEmptyValueMeansUnset() {
    SgConfig c = ConfigLoader.load(null, Map.of("SG_NODE_ID", "n", "SG_READ_COUNT", " ", "REDIS_URL", "",
        "SG_HTTP_PORT", ""));
    assertEquals(100, c.consumer().readCount());
    assertTrue(c.redisUrl().isEmpty());
    assertEquals(8080, c.gateway().port());
  }

  @Test
  void theFileIsSgConfigElseStreamsYamlHere() {
    assertEquals(Optional.of(Path.of("/etc/sg.yaml")), ConfigLoader.configFile(Map.of("SG_CONFIG", "/etc/sg.yaml")));
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.read(Map.of("SG_CONFIG", dir.resolve("missing.yaml").toString())));
    assertTrue(e.getMessage().contains("cannot read"), e.getMessage());
  }

  private static LoadedConfig.Effective effective(LoadedConfig c, String key) {
    return c.settings().stream().filter(e -> e.setting().key().equals(key)).findFirst().orElseThrow();
  }
}
