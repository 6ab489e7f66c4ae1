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
    List<StreamGroup> groups = bus.ensureStreams(List.of("web", "webhook")).block();
    assertEquals(4, groups.size());
    for (StreamGroup g : groups) {
      StreamInfo info = bus.streamInfo(g.stream()).block();
      assertEquals(1, info.groups().size(), g.toString());
      assertEquals(g.group(), info.groups().get(0).name());
      assertFalse(bus.ensureGroup(g.stream(), g.group()).block(), "second create reports an existing group");
    }
    // again, whole: no error, same groups
    assertEquals(groups, bus.ensureStreams(List.of("web", "webhook")).block());

    // roles provision only what they read
    RedisEventBus worker = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
    try {
      assertEquals(List.of(new StreamGroup(config.topology().inboundStream(), config.topology().workerGroup())),
          worker.groups(List.of("web")));
    } finally {
      worker.close();
    }
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
  void publishIsCappedWithTheMaxlenFloor() {
    SgConfig tiny = config.withTopology(config.topology().withMaxLen(10));
    assertEquals(1000, tiny.topology().maxLen());
    RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.GATEWAY, tiny);
    try {
      Flux.range(0, 3000)
          .flatMap(i -> b.publishInbound(InboundEnvelope.create("web", "c", "u", "m" + i)), 64)
          .blockLast();
      long len = Streams.length(b, tiny.topology().inboundStream());
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
    bus.redis().commands().xreadgroup(Consumer.from(g, "x"), XReadArgs.Builder.count(1), XReadArgs.StreamOffset.lastConsumed(s)).blockLast();
    assertEquals(OptionalLong.of(3), bus.groupLag(s, g).block());
    // deleting an unread entry leaves Redis unable to count the lag: nil, reported as unknown
    bus.redis().commands().xdel(s, ids[2]).block();
    assertEquals(OptionalLong.empty(), bus.groupLag(s, g).block());
    BacklogReport rep = bus.backlog(s, g).block();
    assertTrue(rep.lag().isEmpty());
    assertTrue(Double.isNaN(rep.ratio()));
    assertFalse(rep.atRisk());
    assertEquals(1, rep.pending());
    assertEquals(1, bus.pendingCount(s, g).block());
  }

  @Test
  void backlogNearTheCapIsFlaggedAsEvictionRisk() {
    String s = config.topology().inboundStream();
    String g = config.topology().workerGroup();
    SgConfig capped = config.withTopology(config.topology().withMaxLen(1000));
    RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.WORKER, capped);
    try {
      b.ensureGroup(s, g).block();
      Flux.range(0, 700).flatMap(i -> b.publishInbound(InboundEnvelope.create("web", "c", "u", "m" + i)), 64).blockLast();
      BacklogReport low = b.backlog(s, g).block();
      assertEquals(OptionalLong.of(700), low.lag());
      assertFalse(low.atRisk());
      Flux.range(0, 150).flatMap(i -> b.publishInbound(InboundEnvelope.create("web", "c", "u", "m" + i)), 64).blockLast();
      BacklogReport high = b.backlog(s, g).block();
      assertEquals(OptionalLong.of(850), high.lag());
      assertTrue(high.atRisk());
      assertEquals(0.85, high.ratio(), 1e-9);

      io.sgstreams.core.metrics.StreamMonitor monitor =
          new io.sgstreams.core.metrics.StreamMonitor(b, List.of(new StreamGroup(s, g)));
      monitor.refresh().block();
      assertEquals(1.0, b.metrics().registry().get("sg.stream.backlog.eviction.risk").tag("stream", s).gauge().value());
      assertEquals(850.0, b.metrics().registry().get("sg.stream.lag").tag("stream", s).gauge().value());
      monitor.close();
    } finally {
      b.close();
    }
  }
}
