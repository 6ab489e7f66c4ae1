package io.sgstreams.core.bus;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.Consumer;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.metrics.StreamMonitor;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Trimming never removes work that is not done: the capped inbound stream against a backlog
 * larger than its cap. Before: XADD MAXLEN ~ trimmed three quarters of what the gateway had
 * accepted while no worker ran; now publishing is refused at the cap and everything accepted is
 * handled once a worker starts.
 */
class RetentionTest {
  private final SgConfig config = TestRedis.config("ret").withTopology(TestRedis.config("ret").topology().withMaxLen(1000));
  private final Topology t = config.topology();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisEventBus bus(Role role) {
    RedisEventBus b = TestRedis.bus(TestRedis.url(), role, config);
    closeables.add(b);
    return b;
  }

  /** Publishes one at a time until {@code n} were tried; the ids accepted, in order. */
  private List<String> publishUntilRefused(RedisEventBus b, int n, List<Throwable> refusals) {
    List<String> accepted = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      InboundEnvelope in = InboundEnvelope.create("web", "c" + (i % 7), "u", "m" + i);
      try {
        b.publishInbound(in).block();
        accepted.add(in.id());
      } catch (RuntimeException e) {
        refusals.add(e);
      }
    }
    return accepted;
  }

  @Test
  void aWorkStreamRefusesPublishingAtItsCapAndLosesNothingItAccepted() {
    RedisEventBus gateway = bus(Role.GATEWAY);
    gateway.ensureStreams(List.of()).block(); // the workers group, at 0, before any worker runs
    List<Throwable> refusals = new ArrayList<>();
    List<String> accepted = publishUntilRefused(gateway, 4000, refusals);

    assertTrue(accepted.size() >= 1000, "accepted up to the cap: " + accepted.size());
    assertTrue(accepted.size() < 1200, "refused soon after the cap: " + accepted.size());
    assertEquals(4000 - accepted.size(), refusals.size());
    for (Throwable e : refusals) {
      BacklogFullException full = assertInstanceOf(BacklogFullException.class, e);
      assertEquals(t.inboundStream(), full.stream());
      assertEquals(t.workerGroup(), full.group());
      assertEquals(1000, full.cap());
    }
    assertEquals(accepted.size(), Streams.length(gateway, t.inboundStream()), "nothing accepted was trimmed");
    assertEquals(4000.0 - accepted.size(), gateway.metrics().registry().get("sg.messages.refused").counter().count());

    // a worker starts: everything accepted is handled, then publishing is accepted again
    RedisEventBus worker = bus(Role.WORKER);
    Set<String> handled = ConcurrentHashMap.newKeySet();
    Router r = Router.create(worker, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-r", config.consumer()),
        d -> {
          handled.add(((InboundEnvelope) d.envelope()).id());
          return Mono.just(HandlerResult.none());
        }).start();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> handled.size() == accepted.size());
      assertEquals(new HashSet<>(accepted), handled);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        try {
          gateway.publishInbound(InboundEnvelope.create("web", "c", "u", "after")).block();
          return true;
        } catch (BacklogFullException e) {
          return false;
        }
      });
    } finally {
      r.shutdown(Duration.ofSeconds(2)).block(Duration.ofSeconds(10));
    }
  }

  @Test
  void trimmingRemovesOnlyWhatEveryWorkGroupAcknowledged() {
    RedisEventBus b = bus(Role.WORKER);
    b.ensureStreams(List.of()).block();
    String s = t.inboundStream();
    String g = t.workerGroup();
    List<Throwable> refusals = new ArrayList<>();
    publishUntilRefused(b, 900, refusals);
    // one entry stays pending (a long handler), the rest are read and acknowledged
    List<StreamMessage<String, byte[]>> first = b.connections().commands()
        .xreadgroup(Consumer.from(g, "worker-slow"), XReadArgs.Builder.count(1), XReadArgs.StreamOffset.lastConsumed(s))
        .collectList().block();
    String held = first.get(0).getId();
    for (int round = 0; round < 5; round++) { // 900 + 5 x 200 entries: under twice the cap
      List<StreamMessage<String, byte[]>> batch = b.connections().commands()
          .xreadgroup(Consumer.from(g, "worker-fast"), XReadArgs.Builder.count(2000), XReadArgs.StreamOffset.lastConsumed(s))
          .collectList().block();
      if (!batch.isEmpty()) {
        b.connections().commands().xack(s, g, batch.stream().map(StreamMessage::getId).toArray(String[]::new)).block();
      }
      b.retention(s).block(); // a fresh reading, as the next publishes would make
      publishUntilRefused(b, 200, refusals);
    }
    assertTrue(refusals.isEmpty(), "the backlog stayed small: " + refusals.size() + " refused");
    List<StreamMessage<String, byte[]>> left = Streams.all(b, s);
    assertEquals(held, left.get(0).getId(), "the pending entry and everything after it is kept");
    assertEquals(1900, left.size(), "nothing behind the pending entry is trimmed, even past the cap");
    TrimPlan plan = b.retention(s).block();
    assertEquals(held, plan.minId());
    assertEquals(1 + plan.state().groups().get(0).lag().getAsLong(), plan.backlog());

    // the stream may hold twice its cap behind an unfinished entry; past that, publishing is refused too
    publishUntilRefused(b, 300, refusals);
    assertTrue(refusals.size() > 0 && refusals.size() < 300, "refused at twice the cap: " + refusals.size());
    assertTrue(refusals.get(0).getMessage().contains("twice") || refusals.get(0).getMessage().contains("2 times"),
        refusals.get(0).getMessage());
    assertEquals(held, Streams.all(b, s).get(0).getId());

    // once it is acknowledged, trimming moves past it
    b.connections().commands().xack(s, g, held).block();
    b.connections().commands().xreadgroup(Consumer.from(g, "worker-fast"), XReadArgs.Builder.count(5000), XReadArgs.StreamOffset.lastConsumed(s))
        .collectList().block().forEach(m -> b.connections().commands().xack(s, g, m.getId()).block());
    b.retention(s).block();
    publishUntilRefused(b, 200, refusals);
    assertTrue(Streams.length(b, s) < 1000, "trimmed once everything was handled: " + Streams.length(b, s));
  }

  @Test
  void anObserverHoldsTrimmingBackOnlyUpToTheCapAndIsThenOvertaken() {
    RedisEventBus b = bus(Role.WORKER);
    b.ensureStreams(List.of()).block();
    String s = t.inboundStream();
    b.ensureGroup(s, "ops-observer").block(); // an ops tool's group that never reads
    List<Throwable> refusals = new ArrayList<>();
    for (int round = 0; round < 4; round++) {
      publishUntilRefused(b, 600, refusals);
      List<StreamMessage<String, byte[]>> batch = b.connections().commands()
          .xreadgroup(Consumer.from(t.workerGroup(), "w"), XReadArgs.Builder.count(5000), XReadArgs.StreamOffset.lastConsumed(s))
          .collectList().block();
      b.connections().commands().xack(s, t.workerGroup(), batch.stream().map(StreamMessage::getId).toArray(String[]::new)).block();
      b.retention(s).block();
      if (round == 0) {
        assertEquals(600, Streams.length(b, s), "within the cap, the observer holds trimming back");
      }
    }
    assertTrue(refusals.isEmpty(), "an observer never blocks publishing");
    assertTrue(b.metrics().registry().get("sg.stream.observer.overtaken").counter().count() >= 1, "it was overtaken");
    long len = Streams.length(b, s);
    assertTrue(len < 1000 + 600 + 200, "held back only up to about the cap: " + len);
  }

  @Test
  void anObserverMoreThanACapBehindIsReportedOvertakenAndAtRisk() {
    String s = t.inboundStream();
    var groups = List.of(
        new GroupInfo(t.workerGroup(), 1, 0, "5-0", java.util.OptionalLong.of(5), java.util.OptionalLong.of(0)),
        new GroupInfo("ops-observer", 0, 0, "0-0", java.util.OptionalLong.of(0), java.util.OptionalLong.of(1500)));
    TrimPlan plan = TrimPlan.of(t.policyFor(s), new StreamState(s, true, 1500, groups, java.util.Map.of(), 0));
    assertEquals(List.of("ops-observer"), plan.overtaken());
    assertEquals("5-1", plan.minId(), "trimming no longer waits for it");
    assertTrue(StreamMonitor.atRisk(plan, "ops-observer"));
    assertTrue(!StreamMonitor.atRisk(plan, t.workerGroup()));
  }

  @Test
  void theMonitorReportsLengthBacklogHeadroomLagPendingAndOldestPendingAge() throws InterruptedException {
    RedisEventBus b = bus(Role.WORKER);
    b.ensureStreams(List.of()).block();
    String s = t.inboundStream();
    String g = t.workerGroup();
    publishUntilRefused(b, 300, new ArrayList<>());
    b.connections().commands().xreadgroup(Consumer.from(g, "w"), XReadArgs.Builder.count(100), XReadArgs.StreamOffset.lastConsumed(s))
        .collectList().block();
    Thread.sleep(50); // the oldest pending entry has an age
    StreamMonitor monitor = new StreamMonitor(b, t.streams());
    closeables.add(monitor);
    monitor.refresh().block();
    var reg = b.metrics().registry();
    assertEquals(300.0, reg.get("sg.stream.length").tag("stream", s).gauge().value());
    assertEquals(300.0, reg.get("sg.stream.backlog").tag("stream", s).gauge().value(), "100 pending + 200 undelivered");
    assertEquals(700.0, reg.get("sg.stream.backlog.headroom").tag("stream", s).gauge().value());
    assertEquals(200.0, reg.get("sg.stream.lag").tag("stream", s).tag("group", g).gauge().value());
    assertEquals(100.0, reg.get("sg.stream.pending").tag("stream", s).tag("group", g).gauge().value());
    assertTrue(reg.get("sg.stream.oldest.pending").tag("stream", s).tag("group", g).gauge().value() > 0);
    assertFalse(StreamMonitor.atRisk(b.retention(s).block(), g), "a work group is never at risk: trimming waits for it");
    assertTrue(Double.isNaN(reg.get("sg.stream.backlog.headroom").tag("stream", t.outboundStream("web")).gauge().value()),
        "a tailed stream never refuses: no headroom");
  }
}
