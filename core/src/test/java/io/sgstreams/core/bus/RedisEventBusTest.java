package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.Consumer;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.core.topology.StreamGroup;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

class RedisEventBusTest {
  private final SgConfig config = TestRedis.config("bus-test");
  private final RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.STANDALONE, config);

  @AfterEach
  void close() {
    bus.close();
  }

  @Test
  void provisioningCreatesEveryGroupOfTheRoleAndIsIdempotent() {
    var t = config.topology();
    List<StreamGroup> groups = bus.ensureStreams(List.of("web", "webhook")).block();
    assertEquals(List.of(new StreamGroup(t.inboundStream(), t.workerGroup()),
        new StreamGroup(t.outboundStream("webhook"), t.gatewayGroup("webhook")),
        new StreamGroup(t.toolsStream(), t.toolsGroup())), groups);
    for (StreamGroup g : groups) {
      StreamInfo info = bus.streamInfo(g.stream()).block();
      assertEquals(1, info.groups().size(), g.toString());
      assertEquals(g.group(), info.groups().get(0).name());
      assertFalse(bus.ensureGroup(g.stream(), g.group()).block(), "second create reports an existing group");
    }
    // again, whole: no error, same groups
    assertEquals(groups, bus.ensureStreams(List.of("web", "webhook")).block());
    // no group on a tailed outbound stream: nobody would read through it
    assertEquals(0, Streams.length(bus, t.outboundStream("web")));

    // roles provision what they read and the work groups of the work streams they write to
    RedisEventBus worker = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
    RedisEventBus gateway = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
    try {
      assertEquals(List.of(new StreamGroup(t.inboundStream(), t.workerGroup()), new StreamGroup(t.toolsStream(), t.toolsGroup())),
          worker.groups(List.of("web", "webhook")));
      assertEquals(List.of(new StreamGroup(t.inboundStream(), t.workerGroup())), gateway.groups(List.of()),
          "a gateway without a webhook URL reads no group");
    } finally {
      worker.close();
      gateway.close();
    }
  }

  @Test
  void everyPublishIsCountedOnceOnItsStreamsPublishedCounter() {
    var t = config.topology();
    String inbound = t.inboundStream();
    String other = inbound + ":other";
    for (int i = 0; i < 5; i++) {
      bus.publishInbound(InboundEnvelope.create("web", "c" + i, "u1", "hello " + i)).block();
    }
    for (int i = 0; i < 3; i++) {
      bus.publishFields(other, Map.of("data", new byte[] {1, 2, 3}, "note", "x".getBytes(StandardCharsets.UTF_8))).block();
    }
    var metrics = bus.metrics();
    assertEquals(5.0, metrics.counter(io.sgstreams.core.metrics.StreamMetrics.PUBLISHED, inbound, null).count());
    assertEquals(3.0, metrics.counter(io.sgstreams.core.metrics.StreamMetrics.PUBLISHED, other, null).count());
  }

  @Test
  void publishWritesTheContractFieldsWithTheEnvelopeBytes() {
    InboundEnvelope in = InboundEnvelope.create("web", "c1", "u1", "hello")
        .withHeaders(Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
    long before = System.currentTimeMillis();
    String id = bus.publishInbound(in).block();
    List<StreamMessage<String, byte[]>> all = Streams.all(bus, config.topology().inboundStream());
    assertEquals(1, all.size());
    StreamMessage<String, byte[]> m = all.get(0);
    assertEquals(id, m.getId());
    assertEquals(java.util.Set.of("data", "ts", "trace_id"), m.getBody().keySet());
    assertArrayEquals(bus.codec().encode(in), m.getBody().get("data"));
    assertEquals(in, bus.codec().decode(m.getBody().get("data")));
    long ts = Long.parseLong(new String(m.getBody().get("ts"), StandardCharsets.US_ASCII));
    assertTrue(ts >= before && ts <= System.currentTimeMillis() + 1);
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", new String(m.getBody().get("trace_id"), StandardCharsets.US_ASCII));

    OutboundEnvelope out = OutboundEnvelope.replyTo(in, "message", "hi");
    bus.publishOutbound("web", out).block();
    StreamMessage<String, byte[]> o = Streams.all(bus, config.topology().outboundStream("web")).get(0);
    assertEquals(out, bus.codec().decode(o.getBody().get("data")));
    assertEquals("4bf92f3577b34da6a3ce929d0e0e4736", new String(o.getBody().get("trace_id"), StandardCharsets.US_ASCII),
        "a reply carries its request's trace");
    bus.publishInbound(InboundEnvelope.create("web", "c2", "u1", "no trace")).block();
    StreamMessage<String, byte[]> untraced = Streams.all(bus, config.topology().inboundStream()).get(1);
    assertEquals(0, untraced.getBody().get("trace_id").length, "no traceparent: empty trace_id");
  }

  @Test
  void aTailedStreamIsCappedByLengthWithTheMaxlenFloor() {
    SgConfig tiny = config.withTopology(config.topology().withMaxLen(10));
    assertEquals(1000, tiny.topology().maxLen());
    RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.WORKER, tiny);
    try {
      InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "q");
      Flux.range(0, 3000)
          .flatMap(i -> b.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", "m" + i)), 64)
          .blockLast();
      long len = Streams.length(b, tiny.topology().outboundStream("web"));
      assertTrue(len >= 1000, "never trimmed below the floor: " + len);
      assertTrue(len < 3000, "trimmed at all: " + len);
    } finally {
      b.close();
    }
  }

  @Test
  void lagIsReportedAsUnknownWhenRedisCannotTellNeverAsZero() {
    String s = config.topology().inboundStream();
    String g = config.topology().workerGroup();
    bus.ensureGroup(s, g).block();
    String[] ids = new String[4];
    for (int i = 0; i < 4; i++) {
      ids[i] = bus.publishInbound(InboundEnvelope.create("web", "c", "u", "m" + i)).block();
    }
    assertEquals(OptionalLong.of(4), bus.groupLag(s, g).block());
    bus.connections().commands().xreadgroup(Consumer.from(g, "x"), XReadArgs.Builder.count(1), XReadArgs.StreamOffset.lastConsumed(s)).blockLast();
    assertEquals(OptionalLong.of(3), bus.groupLag(s, g).block());
    // deleting an unread entry leaves Redis unable to count the lag: nil, reported as unknown
    bus.connections().commands().xdel(s, ids[2]).block();
    assertEquals(OptionalLong.empty(), bus.groupLag(s, g).block());
    TrimPlan plan = bus.retention(s).block();
    GroupInfo gi = plan.state().groups().get(0);
    assertTrue(gi.lag().isEmpty());
    assertEquals(1, gi.pending());
    assertEquals(ids[0], plan.state().oldestPending().get(g));
    // unknown lag counts as the whole stream: the backlog is never under-reported
    assertEquals(1 + 3, plan.backlog());
    assertEquals(ids[0], plan.minId(), "nothing from the oldest pending entry on is trimmed");
    assertEquals(1, bus.pendingCount(s, g).block());
  }
}
