package io.sgstreams.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
  void theRepositoryStreamsYamlStatesExactlyTheDefaults() {
    Path root = Path.of("..", "streams.yaml");
    SgConfig fromFile = ConfigLoader.load(root, Map.of("SG_NODE_ID", "n1"));
    assertEquals(SgConfig.defaults("n1"), fromFile);
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
    assertTrue(e.getMessage().contains("SG_READ_COUNT='lots'"), e.getMessage());

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
  void everySettingHasAnEnvironmentVariableAndAYamlKeyInTheRepositoryFile() throws IOException {
    String yaml = Files.readString(Path.of("..", "streams.yaml"));
    ConfigLoader.settings().forEach((path, env) -> {
      assertTrue(yaml.contains(path.substring(path.indexOf('.') + 1) + ":"), "streams.yaml lacks " + path);
      assertTrue(yaml.contains(env), "streams.yaml does not name " + env);
    });
  }
}
