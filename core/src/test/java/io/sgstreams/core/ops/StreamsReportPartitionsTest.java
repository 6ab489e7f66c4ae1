package io.sgstreams.core.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.metrics.StreamMonitor;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link StreamsReport} (GET /v1/streams, sg streams) and {@link StreamMonitor}'s gauges with partitions: every
 * partition recognised, per logical stream totals (an unknown lag stays unknown), the logical-name lookup; and with
 * {@code P = 1} the report and the gauges exactly as before.
 */
class StreamsReportPartitionsTest {
  private static final Duration T = Duration.ofSeconds(10);
  private final List<RedisEventBus> buses = new ArrayList<>();

  @AfterEach
  void close() {
    buses.forEach(RedisEventBus::close);
  }

  private RedisEventBus bus(int partitions) {
    SgConfig config = TestRedis.config("report-p" + partitions).withPartitions(partitions);
    RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
    buses.add(bus);
    return bus;
  }

  private static String add(RedisEventBus bus, String stream) {
    return Streams.add(bus, stream, StreamFields.of(new byte[] {1, 2, 3}, System.currentTimeMillis(), "00000000000000000000000000000001"));
  }

  /** Partition i of the inbound stream gets i + 1 entries, read by nobody yet (lag i + 1). */
  private static void fill(RedisEventBus bus) {
    Topology t = bus.topology();
    for (int i = 0; i < t.partitions(); i++) {
      bus.ensureGroup(t.inboundStream(i), t.workerGroup()).block(T);
      for (int n = 0; n <= i; n++) {
        add(bus, t.inboundStream(i));
      }
    }
  }

  private static JsonNode row(JsonNode all, String name) {
    for (JsonNode s : all.get("streams")) {
      if (s.get("name").asText().equals(name)) {
        return s;
      }
    }
    return null;
  }

  private static JsonNode group(JsonNode streamOrTotals, String group) {
    for (JsonNode g : streamOrTotals.get("groups")) {
      if (g.get("name").asText().equals(group)) {
        return g;
      }
    }
    return null;
  }

  private static JsonNode totals(JsonNode all, String name) {
    for (JsonNode s : all.get("totals")) {
      if (s.get("name").asText().equals(name)) {
        return s;
      }
    }
    return null;
  }

  @Test
  void withOnePartitionTheReportIsUnchanged() {
    RedisEventBus bus = bus(1);
    Topology t = bus.topology();
    fill(bus);
    StreamsReport report = new StreamsReport(bus);
    ObjectNode all = report.all().block(T);
    assertFalse(all.has("totals"), "no totals with P = 1");
    JsonNode inbound = row(all, t.inboundStream());
    assertEquals("inbound", inbound.get("kind").asText());
    assertFalse(inbound.has("partition"), "no partition field with P = 1");
    assertFalse(inbound.has("logical_stream"));
    assertEquals(1, inbound.get("length").asLong());
    assertEquals("dlq", row(all, t.dlqStream()).get("kind").asText());
    ObjectNode one = report.named(t.inboundStream()).block(T);
    assertEquals(t.inboundStream(), one.get("name").asText());
    assertFalse(one.has("totals"));
  }

  @Test
  void everyPartitionIsRecognisedAndTotalledWithUnknownLagKeptUnknown() {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    fill(bus); // lengths 1, 2, 3, 4; lag 1, 2, 3, 4
    StreamsReport report = new StreamsReport(bus);

    ObjectNode all = report.all().block(T);
    for (int i = 0; i < 4; i++) {
      JsonNode r = row(all, t.inboundStream(i));
      assertNotNull(r, "partition " + i + " listed");
      assertEquals("inbound", r.get("kind").asText());
      assertEquals(i, r.get("partition").asInt());
      assertEquals(t.inboundStream(), r.get("logical_stream").asText());
      assertEquals("dlq", row(all, t.dlqStream(i)).get("kind").asText());
      for (String p : t.platforms()) {
        assertEquals("outbound", row(all, t.outboundStream(p, i)).get("kind").asText());
      }
    }
    assertTrue(row(all, t.toolsStream()).get("partition").isNull(), "the tools stream has no partition");
    assertNull(row(all, t.inboundStream()), "with P > 1 the base name is not a stream");

    JsonNode in = totals(all, t.inboundStream());
    assertEquals("inbound", in.get("kind").asText());
    assertEquals(4, in.get("partitions").asInt());
    assertEquals(4, in.get("partitions_existing").asInt());
    assertEquals(10, in.get("length").asLong());
    assertEquals(10, in.get("backlog").asLong());
    JsonNode workers = group(in, t.workerGroup());
    assertEquals(4, workers.get("partitions").asInt());
    assertEquals(0, workers.get("pending").asLong());
    assertTrue(workers.get("lag_known").asBoolean());
    assertEquals(10, workers.get("lag").asLong());
    assertNotNull(totals(all, t.dlqStream()));
    assertEquals("dlq", totals(all, t.dlqStream()).get("kind").asText());
    for (String p : t.platforms()) {
      assertEquals("outbound:" + p, totals(all, t.outboundStream(p)).get("kind").asText());
    }

    // a deleted, never-read entry in partition 2: Redis cannot tell that partition's lag, so neither can the total
    List<String> ids = Streams.all(bus, t.inboundStream(2)).stream().map(m -> m.getId()).toList();
    bus.connections().commands().xdel(t.inboundStream(2), ids.get(1)).block(T);
    all = report.all().block(T);
    JsonNode p2 = group(row(all, t.inboundStream(2)), t.workerGroup());
    assertFalse(p2.get("lag_known").asBoolean(), "Redis reports no lag after XDEL of an unread entry");
    workers = group(totals(all, t.inboundStream()), t.workerGroup());
    assertFalse(workers.get("lag_known").asBoolean(), "one partition's lag unknown: the total is unknown");
    assertTrue(workers.get("lag").isNull(), "never 0, never a partial sum");
    assertEquals(9, totals(all, t.inboundStream()).get("length").asLong());

    // pending and the oldest pending age: the largest of the partitions'
    bus.connections().commands().xreadgroup(io.lettuce.core.Consumer.from(t.workerGroup(), "w1"),
        io.lettuce.core.XReadArgs.StreamOffset.lastConsumed(t.inboundStream(3))).collectList().block(T);
    all = report.all().block(T);
    workers = group(totals(all, t.inboundStream()), t.workerGroup());
    assertEquals(4, workers.get("pending").asLong());
    assertTrue(workers.get("oldest_pending_seconds").isNumber());
    assertEquals(1, workers.get("consumers").asInt());
  }

  @Test
  void aLogicalNameAnswersItsTotalsAndItsPartitions() {
    RedisEventBus bus = bus(4);
    Topology t = bus.topology();
    fill(bus);
    StreamsReport report = new StreamsReport(bus);
    ObjectNode logical = report.named(t.inboundStream()).block(T);
    assertNotNull(logical);
    assertTrue(logical.get("logical").asBoolean());
    assertEquals(4, logical.get("partitions").asInt());
    assertEquals(10, logical.get("totals").get("length").asLong());
    assertEquals(4, logical.get("streams").size());
    Set<String> names = new HashSet<>();
    logical.get("streams").forEach(s -> names.add(s.get("name").asText()));
    assertEquals(Set.copyOf(t.inboundStreams()), names);
    // one partition by its key, as before
    ObjectNode p1 = report.named(t.inboundStream(1)).block(T);
    assertEquals(2, p1.get("length").asLong());
    assertEquals(1, p1.get("partition").asInt());
    assertNull(report.named("no:such:stream").block(T));
    assertEquals(4, report.named(t.dlqStream()).block(T).get("streams").size());
  }

  @Test
  void gaugesGetAPartitionTagOnlyWithPartitions() {
    RedisEventBus one = bus(1);
    try (StreamMonitor m = new StreamMonitor(one, one.topology().streams())) {
      m.refresh().block(T);
      for (Meter meter : one.metrics().registry().find(StreamMetrics.LENGTH).meters()) {
        assertNull(meter.getId().getTag("partition"), "P = 1: the series are unchanged");
      }
    }
    RedisEventBus four = bus(4);
    Topology t = four.topology();
    fill(four);
    try (StreamMonitor m = new StreamMonitor(four, t.streams())) {
      m.refresh().block(T);
      var registry = four.metrics().registry();
      Gauge len = registry.find(StreamMetrics.LENGTH).tag("stream", t.inboundStream(3)).gauge();
      assertEquals("3", len.getId().getTag("partition"));
      assertEquals(4.0, len.value());
      assertEquals("none", registry.find(StreamMetrics.LENGTH).tag("stream", t.toolsStream()).gauge().getId().getTag("partition"));
      Gauge lag = registry.find(StreamMetrics.LAG).tag("stream", t.inboundStream(2)).tag("group", t.workerGroup()).gauge();
      assertEquals("2", lag.getId().getTag("partition"));
      assertEquals(3.0, lag.value());
      for (Meter meter : registry.getMeters()) {
        if (meter instanceof Gauge && meter.getId().getName().startsWith("sg.stream.")) {
          assertNotNull(meter.getId().getTag("partition"), "one tag-key set per meter: " + meter.getId());
        }
      }
    }
  }
}
