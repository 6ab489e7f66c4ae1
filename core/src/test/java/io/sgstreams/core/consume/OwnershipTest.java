package io.sgstreams.core.consume;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.sgstreams.core.bus.PendingEntry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Who owns a pending entry: reclaim by an idle survivor, renewal by a live consumer however long
 * its handler runs, loss of an entry to another consumer after a stall, trimmed entries, and the
 * removal of long-gone consumers. Each test reproduces a production failure of the engine as it
 * was before ownership renewal (named in its comment).
 */
class OwnershipTest {
  private final SgConfig config = TestRedis.config("own");
  private final Topology t = config.topology();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<Router> routers = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (Router r : routers) {
      r.shutdown(Duration.ofSeconds(2)).block(Duration.ofSeconds(10));
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private RedisEventBus bus(SgConfig c) {
    RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.WORKER, c);
    closeables.add(b);
    return b;
  }

  private Router start(RedisEventBus b, ReceiverOptions o, Handler h) {
    Router r = Router.create(b, o, h).start();
    routers.add(r);
    return r;
  }

  private static Handler echo() {
    return d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content()))));
    };
  }

  /** Publishes n inbound envelopes; their envelope ids. */
  private List<String> publish(RedisEventBus b, int n, String channelPrefix, int channels) {
    List<InboundEnvelope> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(InboundEnvelope.create("web", channelPrefix + (i % channels), "u", "m" + i));
    }
    Flux.fromIterable(sent).concatMap(b::publishInbound).blockLast();
    return sent.stream().map(InboundEnvelope::id).toList();
  }

  private Set<String> answered(RedisEventBus b) {
    Set<String> out = new HashSet<>();
    for (StreamMessage<String, byte[]> m : Streams.all(b, t.outboundStream("web"))) {
      out.add(((OutboundEnvelope) b.codec().decode(m.getBody().get("data"))).inReplyTo());
    }
    return out;
  }

  private List<io.sgstreams.core.bus.PendingEntry> pendingOf(RedisEventBus b, String consumer) {
    return b.pendingRange(t.inboundStream(), t.workerGroup(), consumer, "-", "+", 10_000).collectList().block();
  }

  /**
   * Before: the reader reserved every free slot for its blocking XREADGROUP, so an idle consumer's
   * claimer found a budget of 0 on every tick and a dead consumer's 100 entries stayed pending.
   */
  @Test
  void anIdleSurvivorReclaimsEveryEntryOfADeadConsumer() {
    // a long blocking read and a small in-flight bound: the starving shape
    SgConfig c = config.withConsumer(config.consumer()
        .withClaim(Duration.ofMillis(1500), Duration.ofMillis(500))
        .withRead(100, Duration.ofSeconds(2))
        .withConcurrency(16));
    RedisEventBus b = bus(c);
    b.ensureStreams(List.of()).block();
    List<String> ids = publish(b, 100, "c", 10);
    b.connections().commands().xreadgroup(Consumer.from(t.workerGroup(), "worker-gone"), XReadArgs.Builder.count(100),
        XReadArgs.StreamOffset.lastConsumed(t.inboundStream())).collectList().block();
    assertEquals(100, pendingOf(b, "worker-gone").size());

    long started = System.nanoTime();
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-survivor", c.consumer()), echo());
    await().atMost(Duration.ofSeconds(60)).until(() -> answered(b).size() == 100);
    long took = (System.nanoTime() - started) / 1_000_000;
    assertEquals(new HashSet<>(ids), answered(b));
    await().atMost(Duration.ofSeconds(10)).until(() -> pendingOf(b, "worker-gone").isEmpty());
    await().atMost(Duration.ofSeconds(10)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(100, Streams.length(b, t.outboundStream("web")), "each answered once");
    System.out.printf("OwnershipTest: idle survivor answered 100 orphans %d ms after it started "
        + "(claim_min_idle 1500 + claim_interval 500 + 2000 = 4000 ms bound)%n", took);
  }

  /**
   * Before: nothing renewed an entry's idle time, so a handler slower than claim_min_idle was
   * claimed by another consumer while it still ran: handled twice, delivery counts bumped.
   */
  @Test
  void aHandlerSlowerThanClaimMinIdleKeepsItsEntryAndRunsOnce() {
    Duration minIdle = Duration.ofMillis(600);
    SgConfig c = config.withConsumer(config.consumer().withClaim(minIdle, Duration.ofMillis(100)));
    RedisEventBus b1 = bus(c);
    RedisEventBus b2 = bus(c);
    b1.ensureStreams(List.of()).block();
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    Map<String, Long> counts = new ConcurrentHashMap<>();
    Handler slow = d -> Mono.defer(() -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      runs.computeIfAbsent(in.id(), k -> new AtomicInteger()).incrementAndGet();
      counts.merge(in.id(), d.deliveryCount(), Math::max);
      // three times claim_min_idle: without renewal the other consumer claims it twice over
      return Mono.delay(minIdle.multipliedBy(3)).then(echo().handle(d));
    });
    // reads smaller than the in-flight bound leave the claimers slots: nothing but renewal keeps them off
    ReceiverOptions o = ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "w", c.consumer()).withMaxInFlight(16).withReadCount(2);
    Router r1 = start(b1, o.withConsumer("worker-one"), slow);
    Router r2 = start(b2, o.withConsumer("worker-two"), slow);
    List<String> ids = publish(b1, 12, "c", 12);
    await().atMost(Duration.ofSeconds(60)).until(() -> answered(b1).size() == 12);
    await().atMost(Duration.ofSeconds(10)).until(() -> Streams.pending(b1, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(new HashSet<>(ids), answered(b1));
    for (String id : ids) {
      assertEquals(1, runs.get(id).get(), "handler runs for " + id);
      assertEquals(1L, counts.get(id), "delivery count of " + id);
    }
    assertEquals(12, Streams.length(b1, t.outboundStream("web")));
    double renewed = b1.metrics().registry().find("sg.deliveries.renewed").counters().stream().mapToDouble(x -> x.count()).sum()
        + b2.metrics().registry().find("sg.deliveries.renewed").counters().stream().mapToDouble(x -> x.count()).sum();
    assertTrue(renewed >= 12, "the race was on: entries were renewed while their handlers ran (" + renewed + ")");
    assertEquals(0.0, b1.metrics().registry().find("sg.messages.reclaimed").counters().stream().mapToDouble(x -> x.count()).sum()
        + b2.metrics().registry().find("sg.messages.reclaimed").counters().stream().mapToDouble(x -> x.count()).sum());
    assertTrue(r1.running() && r2.running());
  }

  /**
   * A consumer that stalled past claim_min_idle has lost its entry to another consumer: its next
   * renewal must not take the entry back, and its handler's result must be dropped (the new owner
   * answers). The other consumer's claim is made by hand here, as a claimer would after the stall.
   */
  @Test
  void anEntryTakenOverByAnotherConsumerIsNotTakenBackAndItsResultIsDropped() {
    SgConfig c = config.withConsumer(config.consumer().withClaim(Duration.ofMillis(900), Duration.ofMinutes(10)));
    RedisEventBus b = bus(c);
    b.ensureStreams(List.of()).block();
    publish(b, 1, "c", 1);
    String id = Streams.all(b, t.inboundStream()).get(0).getId();
    Sinks.Empty<Void> gate = Sinks.empty();
    AtomicInteger cancelled = new AtomicInteger();
    AtomicInteger started = new AtomicInteger();
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-stalled", c.consumer()), d -> Mono.defer(() -> {
      started.incrementAndGet();
      return gate.asMono().then(echo().handle(d));
    }).doOnCancel(cancelled::incrementAndGet));
    await().atMost(Duration.ofSeconds(10)).until(() -> started.get() == 1);

    // another consumer claims it (what its claimer does once this one stops renewing)
    b.connections().commands().xclaim(t.inboundStream(), Consumer.from(t.workerGroup(), "worker-new"), 0, id).collectList().block();
    await().atMost(Duration.ofSeconds(10)).until(() -> cancelled.get() == 1);
    gate.tryEmitEmpty();

    List<io.lettuce.core.models.stream.PendingMessage> pending = b.connections().commands().xpending(t.inboundStream(), t.workerGroup(), Range.create("-", "+"), Limit.from(10))
        .collectList().block();
    assertEquals(1, pending.size());
    assertEquals("worker-new", pending.get(0).getConsumer(), "the renewal did not take it back");
    assertEquals(0, Streams.length(b, t.outboundStream("web")), "the stalled consumer's result was dropped");
    assertEquals(1.0, b.metrics().registry().get("sg.deliveries.lost").counter().count());
  }

  /**
   * Entries trimmed while pending (an operator's XTRIM): found by a claim (XAUTOCLAIM's deleted
   * ids, which Lettuce's own output drops) and by a restarted consumer's history read; each is
   * counted and recorded in the DLQ with error=trimmed_before_handled and no data.
   */
  @Test
  void entriesTrimmedWhilePendingAreCountedAndRecorded() {
    SgConfig c = config.withConsumer(config.consumer().withClaim(Duration.ofMillis(300), Duration.ofMillis(100)));
    RedisEventBus b = bus(c);
    b.ensureStreams(List.of()).block();
    publish(b, 10, "c", 2);
    // 6 read by a consumer that dies; 4 by one that will restart under the same name
    b.connections().commands().xreadgroup(Consumer.from(t.workerGroup(), "worker-dead"), XReadArgs.Builder.count(6),
        XReadArgs.StreamOffset.lastConsumed(t.inboundStream())).collectList().block();
    b.connections().commands().xreadgroup(Consumer.from(t.workerGroup(), "worker-back"), XReadArgs.Builder.count(4),
        XReadArgs.StreamOffset.lastConsumed(t.inboundStream())).collectList().block();
    b.connections().commands().xtrim(t.inboundStream(), 0).block();
    assertEquals(0, Streams.length(b, t.inboundStream()));

    AtomicInteger handled = new AtomicInteger();
    Handler count = d -> {
      handled.incrementAndGet();
      return Mono.just(HandlerResult.none());
    };
    // worker-back restarts with claims far away: only its history read finds its 4
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-back", c.consumer())
        .withClaim(Duration.ofMinutes(10), Duration.ofMinutes(10)), count);
    await().atMost(Duration.ofSeconds(10)).until(() -> pendingOf(b, "worker-back").isEmpty());
    // a survivor's claimer finds worker-dead's 6 deleted
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-survivor", c.consumer()), count);
    await().atMost(Duration.ofSeconds(20)).until(() -> Streams.length(b, t.dlqStream()) == 10);
    await().atMost(Duration.ofSeconds(10)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(0, handled.get());
    for (StreamMessage<String, byte[]> m : Streams.all(b, t.dlqStream())) {
      Map<String, byte[]> f = m.getBody();
      assertEquals(DeadLetters.TRIMMED_BEFORE_HANDLED, str(f.get("error")));
      assertNull(f.get("data"), "no data: it is gone");
      assertEquals(t.inboundStream(), str(f.get("original_stream")));
      assertEquals(t.workerGroup(), str(f.get("group")));
    }
    double trimmed = b.metrics().registry().get("sg.messages.trimmed.before.ack").counter().count();
    assertEquals(10.0, trimmed);
  }

  /** Consumers gone for longer than the limit with nothing pending leave the group; one with pending entries stays. */
  @Test
  void longGoneConsumersWithNothingPendingAreRemovedFromTheGroup() {
    SgConfig c = config.withConsumer(config.consumer().withRemoveIdleConsumersAfter(Duration.ofMillis(400)));
    RedisEventBus b = bus(c);
    b.ensureStreams(List.of()).block();
    publish(b, 1, "c", 1);
    var cmd = b.connections().commands();
    cmd.xgroupCreateconsumer(t.inboundStream(), Consumer.from(t.workerGroup(), "worker-old-1")).block();
    cmd.xgroupCreateconsumer(t.inboundStream(), Consumer.from(t.workerGroup(), "worker-old-2")).block();
    cmd.xreadgroup(Consumer.from(t.workerGroup(), "worker-holding"), XReadArgs.Builder.count(1),
        XReadArgs.StreamOffset.lastConsumed(t.inboundStream())).collectList().block();
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-live", c.consumer())
        .withClaim(Duration.ofMinutes(10), Duration.ofMinutes(10)), echo());
    await().atMost(Duration.ofSeconds(20)).until(() -> consumers(b).equals(Set.of("worker-live", "worker-holding")));
    assertEquals(2.0, b.metrics().registry().get("sg.consumers.removed").counter().count());
  }

  private Set<String> consumers(RedisEventBus b) {
    Set<String> names = new HashSet<>();
    for (Object o : b.connections().commands().xinfoConsumers(t.inboundStream(), t.workerGroup()).collectList().block()) {
      List<?> kv = (List<?>) o;
      for (int i = 0; i + 1 < kv.size(); i += 2) {
        if ("name".equals(text(kv.get(i)))) {
          names.add(text(kv.get(i + 1)));
        }
      }
    }
    return names;
  }

  private static String text(Object o) {
    return o instanceof byte[] bytes ? new String(bytes, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  private static String str(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unused")
  private static void assertNotRunning(Router r) {
    assertFalse(r.running());
  }
}
