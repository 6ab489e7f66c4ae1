package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.sgstreams.core.config.Topology;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sg deploy keda}: the ScaledObject follows the loaded configuration, and never carries the Redis password. */
class DeployCommandTest {
  private record Run(int status, String out, String err) {}

  /** The checked-in ScaledObject of the kustomize base: what 'sg deploy keda' prints for the base's Secret. */
  static final Path BASE_KEDA = Path.of("..", "deploy", "k8s", "base", "keda.yaml");
  static final String BASE_REDIS_URL = "redis://:change-me@redis:6379";

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("HOSTNAME", "deploy-test"));
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** Every YAML document of the output, by kind. */
  private static Map<String, JsonNode> docs(String yaml) throws IOException {
    List<JsonNode> all = new ArrayList<>();
    new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).<JsonNode>readValues(yaml).forEachRemaining(n -> {
      if (n != null && !n.isMissingNode() && !n.isNull()) {
        all.add(n);
      }
    });
    Map<String, JsonNode> byKind = new HashMap<>();
    all.forEach(n -> assertNull(byKind.put(n.path("kind").asText(), n), "one document per kind"));
    return byKind;
  }

  private static JsonNode trigger(JsonNode scaledObject) {
    JsonNode triggers = scaledObject.path("spec").path("triggers");
    assertEquals(1, triggers.size());
    assertEquals("redis-streams", triggers.get(0).path("type").asText());
    return triggers.get(0);
  }

  @Test
  void defaultsNameTheWireContractsStreamAndGroupAndKeepThePasswordOut() throws IOException {
    Run r = sg(env("REDIS_URL", "redis://:s3cret-pw@redis.example:6380/2"), "deploy", "keda");
    assertEquals(0, r.status(), r.err());
    assertFalse(r.out().contains("s3cret-pw"), "the password is never printed");
    Map<String, JsonNode> d = docs(r.out());
    JsonNode so = d.get("ScaledObject");
    JsonNode md = trigger(so).path("metadata");
    assertEquals(Topology.defaults().inboundStream(), md.path("stream").asText());
    assertEquals("sg:stream:inbound", md.path("stream").asText());
    assertEquals("sg:workers", md.path("consumerGroup").asText());
    assertEquals("redis.example:6380", md.path("address").asText());
    assertEquals("2", md.path("databaseIndex").asText());
    assertEquals("64", md.path("lagCount").asText(), "default: one worker's concurrency (SG_WORKER_CONCURRENCY)");
    assertTrue(md.path("pendingEntriesCount").isMissingNode(), "lag, not pending");
    assertEquals("sg-worker", so.path("spec").path("scaleTargetRef").path("name").asText());
    assertEquals(1, so.path("spec").path("minReplicaCount").asInt());
    assertTrue(so.path("metadata").path("namespace").isMissingNode());
    JsonNode ta = d.get("TriggerAuthentication");
    assertEquals(ta.path("metadata").path("name").asText(), trigger(so).path("authenticationRef").path("name").asText());
    JsonNode refs = ta.path("spec").path("secretTargetRef");
    assertEquals(1, refs.size(), "a password only: no username reference");
    assertEquals("password", refs.get(0).path("parameter").asText());
    assertEquals("sg-secrets", refs.get(0).path("name").asText());
    assertEquals("redis-password", refs.get(0).path("key").asText());
  }

  @Test
  void renamedStreamAndGroupInTheEnvironmentAreTheOnesScaledOn() throws IOException {
    Run r = sg(env("REDIS_URL", "rediss://redis-0.redis:6379", "SG_INBOUND_STREAM", "acme:jobs:in",
        "SG_WORKER_GROUP", "acme:jobs:workers", "SG_WORKER_CONCURRENCY", "16"),
        "deploy", "keda", "--namespace", "acme", "--deployment", "acme-worker", "--min", "2", "--max", "7");
    assertEquals(0, r.status(), r.err());
    Map<String, JsonNode> d = docs(r.out());
    JsonNode so = d.get("ScaledObject");
    JsonNode md = trigger(so).path("metadata");
    assertEquals("acme:jobs:in", md.path("stream").asText());
    assertEquals("acme:jobs:workers", md.path("consumerGroup").asText());
    assertEquals("16", md.path("lagCount").asText());
    assertEquals("true", md.path("enableTLS").asText());
    assertEquals("redis-0.redis:6379", md.path("address").asText());
    assertEquals("acme", so.path("metadata").path("namespace").asText());
    assertEquals("acme-worker", so.path("metadata").path("name").asText());
    assertEquals("acme-worker", so.path("spec").path("scaleTargetRef").path("name").asText());
    assertEquals(2, so.path("spec").path("minReplicaCount").asInt());
    assertEquals(7, so.path("spec").path("maxReplicaCount").asInt());
    assertFalse(d.containsKey("TriggerAuthentication"), "no credentials in REDIS_URL: no authentication");
    assertTrue(trigger(so).path("authenticationRef").isMissingNode());
  }

  @Test
  void aRenamedStreamInStreamsYamlIsFollowedToo(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("streams.yaml");
    Files.writeString(file, "streams:\n  inbound: 'tenant7:inbound'\ngroups:\n  workers: 'tenant7:workers'\n");
    Run r = sg(env("SG_CONFIG", file.toString(), "REDIS_URL", "redis://app:pw@10.0.0.5"), "deploy", "keda", "--lag", "200");
    assertEquals(0, r.status(), r.err());
    Map<String, JsonNode> d = docs(r.out());
    JsonNode md = trigger(d.get("ScaledObject")).path("metadata");
    assertEquals("tenant7:inbound", md.path("stream").asText());
    assertEquals("tenant7:workers", md.path("consumerGroup").asText());
    assertEquals("10.0.0.5:6379", md.path("address").asText());
    assertEquals("200", md.path("lagCount").asText());
    JsonNode refs = d.get("TriggerAuthentication").path("spec").path("secretTargetRef");
    assertEquals(List.of("username", "password"), List.of(refs.get(0).path("parameter").asText(), refs.get(1).path("parameter").asText()));
    assertFalse(r.out().contains(":pw@") || r.out().contains("app:pw"));
  }

  @Test
  void refusesWhatKedaCouldNotUseOrWouldScaleToNothing() {
    assertEquals(2, sg(env(), "deploy", "keda").status(), "REDIS_URL unset");
    Run zero = sg(env("REDIS_URL", "redis://redis:6379"), "deploy", "keda", "--min", "0");
    assertEquals(2, zero.status());
    assertTrue(zero.err().contains("--min must be at least 1"), zero.err());
    assertEquals(2, sg(env("REDIS_URL", "redis://redis:6379"), "deploy", "keda", "--min", "3", "--max", "2").status());
    assertEquals(2, sg(env("REDIS_URL", "redis-sentinel://s1:26379"), "deploy", "keda").status());
    assertEquals(2, sg(env("REDIS_URL", "redis://redis:6379"), "deploy", "keda", "--namespace", "Not_A_Name").status());
    assertEquals(2, sg(env("REDIS_URL", "redis://redis:6379"), "deploy").status(), "no subcommand");
  }

  /** The kustomize base's ScaledObject is this command's output: regenerate it with the command, don't hand-edit it. */
  @Test
  void theKustomizeBasesScaledObjectIsWhatTheCommandPrints() throws IOException {
    Run r = sg(env("REDIS_URL", BASE_REDIS_URL), "deploy", "keda");
    assertEquals(0, r.status(), r.err());
    if (Boolean.getBoolean("sg.writeDeploy")) {
      Files.writeString(BASE_KEDA, r.out());
    }
    assertEquals(r.out(), Files.readString(BASE_KEDA), BASE_KEDA + " is out of date: REDIS_URL=" + BASE_REDIS_URL
        + " sg deploy keda > deploy/k8s/base/keda.yaml (or run this test with -Dsg.writeDeploy=true)");
  }

  /** The checked-in example for P = 12 on a Redis Cluster. */
  static final Path CLUSTER_KEDA = Path.of("..", "deploy", "k8s", "partitioned", "keda-cluster-p12.yaml");
  static final String CLUSTER_URL = "redis://:change-me@redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379";

  @Test
  void withTwelvePartitionsOnAClusterOneTriggerPerPartitionSummedAndMaxClamped() throws IOException {
    Run r = sg(env("REDIS_URL", CLUSTER_URL, "SG_PARTITIONS", "12"), "deploy", "keda", "--max", "30", "--lag", "50");
    assertEquals(0, r.status(), r.err());
    assertFalse(r.out().contains("change-me"));
    assertTrue(r.out().contains("clamped to 12"), "the clamp is said: " + r.out());
    JsonNode so = docs(r.out()).get("ScaledObject");
    JsonNode triggers = so.path("spec").path("triggers");
    assertEquals(12, triggers.size());
    Topology t = Topology.defaults().withPartitions(12);
    StringBuilder formula = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      JsonNode tr = triggers.get(i);
      assertEquals("redis-cluster-streams", tr.path("type").asText());
      assertEquals("p" + i, tr.path("name").asText());
      assertEquals(t.inboundStream(i), tr.path("metadata").path("stream").asText());
      assertEquals("sg:workers", tr.path("metadata").path("consumerGroup").asText());
      assertEquals("50", tr.path("metadata").path("lagCount").asText());
      assertEquals("redis-0.redis:6379, redis-1.redis:6379, redis-2.redis:6379", tr.path("metadata").path("addresses").asText());
      assertEquals("sg-worker-redis", tr.path("authenticationRef").path("name").asText());
      formula.append(i == 0 ? "" : " + ").append("p").append(i);
    }
    JsonNode mod = so.path("spec").path("advanced").path("scalingModifiers");
    assertEquals(formula.toString(), mod.path("formula").asText());
    assertEquals("50", mod.path("target").asText());
    assertEquals("1", mod.path("activationTarget").asText());
    assertTrue(so.path("spec").path("maxReplicaCount").asInt() <= 12);
    assertEquals(12, so.path("spec").path("maxReplicaCount").asInt());
  }

  @Test
  void theCheckedInClusterExampleIsWhatTheCommandPrints() throws IOException {
    Run r = sg(env("REDIS_URL", CLUSTER_URL, "SG_PARTITIONS", "12"), "deploy", "keda", "--max", "12");
    assertEquals(0, r.status(), r.err());
    String file = Files.readString(CLUSTER_KEDA);
    String body = file.substring(file.indexOf("# KEDA autoscaling"));
    assertEquals(r.out(), body, "regenerate " + CLUSTER_KEDA + " with the command in its header");
  }

  @Test
  void withPartitionsOnASingleRedisTheTriggersAreRedisStreams() throws IOException {
    Run r = sg(env("REDIS_URL", "redis://redis:6379", "SG_PARTITIONS", "4"), "deploy", "keda", "--max", "3");
    assertEquals(0, r.status(), r.err());
    JsonNode triggers = docs(r.out()).get("ScaledObject").path("spec").path("triggers");
    assertEquals(4, triggers.size());
    triggers.forEach(tr -> assertEquals("redis-streams", tr.path("type").asText()));
    assertEquals("redis:6379", triggers.get(3).path("metadata").path("address").asText());
    assertFalse(r.out().contains("clamped"), "3 <= 4: nothing clamped");
  }

  @Test
  void thePrometheusVariantSumsTheLagOfEveryPartition() throws IOException {
    Run r = sg(env("SG_PARTITIONS", "4"), "deploy", "keda", "--prometheus", "http://prometheus:9090");
    assertEquals(0, r.status(), r.err());
    Map<String, JsonNode> d = docs(r.out());
    assertFalse(d.containsKey("TriggerAuthentication"));
    JsonNode triggers = d.get("ScaledObject").path("spec").path("triggers");
    assertEquals(1, triggers.size());
    assertEquals("prometheus", triggers.get(0).path("type").asText());
    String query = triggers.get(0).path("metadata").path("query").asText();
    assertTrue(query.startsWith("sum(max by (stream) (sg_stream_lag{") && query.contains("group=\"sg:workers\""), query);
    assertTrue(query.contains("sg:stream:inbound"), query);
    assertEquals(2, sg(env(), "deploy", "keda", "--prometheus", "prometheus:9090").status(), "not a URL");
  }

  @Test
  void clusterUrlsAreRecognised() {
    DeployCommand.RedisTarget c = DeployCommand.RedisTarget.parse("rediss-cluster://u:p@a:7000,b:7001,c");
    assertTrue(c.cluster());
    assertTrue(c.tls());
    assertTrue(c.username() && c.password());
    assertEquals(List.of("a:7000", "b:7001", "c:6379"), c.addresses());
    assertTrue(DeployCommand.RedisTarget.parse("redis-cluster://node:6379").cluster());
    assertFalse(DeployCommand.RedisTarget.parse("redis://node:6379/2").cluster());
  }
}
