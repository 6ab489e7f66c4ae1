package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code sg streams} and {@code sg dlq} with partitions (SG_PARTITIONS=4) and unchanged with one. */
class PartitionedOpsCommandsTest {
  private record Run(int status, String out, String err) {
    String all() {
      return "status " + status + "\nout:\n" + out + "\nerr:\n" + err;
    }
  }

  private static final Duration T = Duration.ofSeconds(10);
  private final ObjectMapper mapper = new ObjectMapper();
  private final String ns = TestRedis.namespace();
  private final List<RedisEventBus> buses = new ArrayList<>();

  @AfterEach
  void close() {
    buses.forEach(RedisEventBus::close);
  }

  private Map<String, String> env(int partitions) {
    Map<String, String> m = new HashMap<>();
    m.put("HOSTNAME", "ops-test");
    m.put("REDIS_URL", TestRedis.url());
    m.put("SG_PARTITIONS", Integer.toString(partitions));
    m.put("SG_INBOUND_STREAM", ns + ":inbound");
    m.put("SG_WORKER_GROUP", ns + ":workers");
    m.put("SG_OUTBOUND_STREAM_PREFIX", ns + ":outbound");
    m.put("SG_GATEWAY_GROUP_PREFIX", ns + ":gateway");
    m.put("SG_TOOLS_STREAM", ns + ":tools");
    m.put("SG_TOOLS_GROUP", ns + ":tools-group");
    m.put("SG_TOOLS_REPLY_PREFIX", ns + ":tools:reply");
    m.put("SG_DLQ_STREAM", ns + ":dlq");
    m.put("SG_HEARTBEAT_PREFIX", ns + ":heartbeat");
    return m;
  }

  private RedisEventBus bus(Map<String, String> env) {
    SgConfig config = ConfigLoader.load(null, env);
    RedisEventBus bus = RedisEventBus.connect(Role.WORKER, config, new SimpleMeterRegistry());
    buses.add(bus);
    return bus;
  }

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Map<String, byte[]> deadLetter(RedisEventBus bus, String source, String content) {
    Map<String, byte[]> f = new LinkedHashMap<>();
    f.put("original_stream", source.getBytes(StandardCharsets.UTF_8));
    f.put("original_id", "1-0".getBytes(StandardCharsets.UTF_8));
    f.put("group", bus.topology().workerGroup().getBytes(StandardCharsets.UTF_8));
    f.put("consumer", "w".getBytes(StandardCharsets.UTF_8));
    f.put("deliveries", "2".getBytes(StandardCharsets.UTF_8));
    f.put("error", ("boom " + content).getBytes(StandardCharsets.UTF_8));
    f.put(StreamFields.DATA, bus.codec().encode(InboundEnvelope.create("web", "c1", "u1", content)));
    f.put(StreamFields.TS, Long.toString(System.currentTimeMillis()).getBytes(StandardCharsets.UTF_8));
    f.put(StreamFields.TRACE_ID, "4bf92f3577b34da6a3ce929d0e0e4736".getBytes(StandardCharsets.UTF_8));
    return f;
  }

  @Test
  void sgStreamsShowsTotalsAndPartitionRowsOnlyWhenAsked() throws Exception {
    Map<String, String> env = env(4);
    RedisEventBus bus = bus(env);
    Topology t = bus.topology();
    for (int i = 0; i < 4; i++) {
      bus.ensureGroup(t.inboundStream(i), t.workerGroup()).block(T);
      Streams.add(bus, t.inboundStream(i), StreamFields.of(new byte[] {1}, System.currentTimeMillis(), "00000000000000000000000000000001"));
    }
    Run table = sg(env, "streams");
    assertEquals(0, table.status(), table.all());
    assertTrue(table.out().contains("LOGICAL STREAM"), table.all());
    assertTrue(table.out().contains(t.inboundStream() + " "), "the logical name's totals line: " + table.out());
    assertFalse(table.out().contains(t.inboundStream(2)), "no partition rows by default: " + table.out());
    assertTrue(table.out().contains(t.toolsStream()), "streams without partitions are still listed");
    Run rows = sg(env, "streams", "--partitions");
    assertEquals(0, rows.status(), rows.all());
    for (String key : t.inboundStreams()) {
      assertTrue(rows.out().contains(key), key + " in " + rows.out());
    }
    Run json = sg(env, "streams", "--json");
    JsonNode all = mapper.readTree(json.out());
    JsonNode inbound = null;
    for (JsonNode n : all.get("totals")) {
      if (n.get("name").asText().equals(t.inboundStream())) {
        inbound = n;
      }
    }
    assertEquals(4, inbound.get("length").asLong());
    assertEquals(4, inbound.get("groups").get(0).get("lag").asLong());
  }

  @Test
  void sgStreamsWithOnePartitionHasNoTotals() {
    Map<String, String> env = env(1);
    bus(env);
    Run table = sg(env, "streams");
    assertEquals(0, table.status(), table.all());
    assertFalse(table.out().contains("LOGICAL STREAM"), table.out());
    assertTrue(table.out().startsWith(String.format("%-44s %-11s", "STREAM", "KIND")), table.out());
  }

  @Test
  void sgDlqListsShowsAndReplaysAcrossPartitions() throws Exception {
    Map<String, String> env = env(4);
    RedisEventBus bus = bus(env);
    Topology t = bus.topology();
    String a = "1/" + Streams.add(bus, t.dlqStream(1), deadLetter(bus, t.inboundStream(1), "a"));
    Thread.sleep(2);
    String b = "3/" + Streams.add(bus, t.dlqStream(3), deadLetter(bus, t.inboundStream(3), "b"));

    Run list = sg(env, "dlq", "list", "--json");
    assertEquals(0, list.status(), list.all());
    JsonNode items = mapper.readTree(list.out()).get("dead_letters");
    assertEquals(2, items.size(), list.out());
    assertEquals(b, items.get(0).get("id").asText(), "newest first across partitions, P/ID");
    assertEquals(a, items.get(1).get("id").asText());
    Run table = sg(env, "dlq", "list");
    assertTrue(table.out().contains(a) && table.out().contains(b), table.all());

    Run show = sg(env, "dlq", "show", b.substring(2), "--json");
    assertEquals(0, show.status(), show.all());
    assertEquals(t.dlqStream(3), mapper.readTree(show.out()).get("dlq_stream").asText());

    Run replay = sg(env, "dlq", "replay", b);
    assertEquals(0, replay.status(), replay.all());
    assertTrue(replay.out().contains("replayed to " + t.inboundStream(3)), replay.out());
    assertEquals(1, Streams.length(bus, t.inboundStream(3)));
    Run again = sg(env, "dlq", "replay", b.substring(2));
    assertEquals(0, again.status(), again.all());
    assertTrue(again.out().contains("already replayed"), again.out());
    assertEquals(1, Streams.length(bus, t.inboundStream(3)));

    Run purge = sg(env, "dlq", "purge", a, "--yes");
    assertEquals(0, purge.status(), purge.all());
    assertEquals(0, Streams.length(bus, t.dlqStream(1)));
    assertEquals(2, sg(env, "dlq", "show", "9/1-0").status(), "no partition 9: a usage error");
  }
}
