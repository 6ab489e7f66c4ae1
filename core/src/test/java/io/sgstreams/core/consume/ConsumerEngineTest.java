package io.sgstreams.core.consume;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class ConsumerEngineTest {
  private final SgConfig config = TestRedis.config("engine");
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

  private RedisEventBus bus(Role role, SgConfig c) {
    RedisEventBus b = TestRedis.bus(TestRedis.url(), role, c);
    closeables.add(b);
    return b;
  }

  private ReceiverOptions workerOptions(RedisEventBus b, String consumer) {
    return ReceiverOptions.of(t.inboundStream(), t.workerGroup(), consumer, config.consumer());
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

  private List<InboundEnvelope> publish(RedisEventBus b, int n, String channelPrefix, int channels) {
    List<InboundEnvelope> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(InboundEnvelope.create("web", channelPrefix + (i % channels), "u", "m" + i));
    }
    Flux.fromIterable(sent).concatMap(b::publishInbound).blockLast();
    return sent;
  }

  private List<Envelope> outbound(RedisEventBus b) {
    List<Envelope> out = new ArrayList<>();
    for (StreamMessage<String, byte[]> m : Streams.all(b, t.outboundStream("web"))) {
      out.add(b.codec().decode(m.getBody().get("data")));
    }
    return out;
  }

  @Test
  void publishConsumeAcknowledge() {
    RedisEventBus b = bus(Role.STANDALONE, config);
    b.ensureStreams(List.of("web")).block();
    List<InboundEnvelope> sent = publish(b, 500, "c", 10);
    start(b, workerOptions(b, "worker-a"), echo());

    await().atMost(Duration.ofSeconds(20)).until(() -> Streams.length(b, t.outboundStream("web")) == 500);
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    List<Envelope> replies = outbound(b);
    Set<String> answered = new HashSet<>();
    for (Envelope e : replies) {
      OutboundEnvelope o = (OutboundEnvelope) e;
      answered.add(o.inReplyTo());
    }
    Set<String> ids = new HashSet<>();
    sent.forEach(s -> ids.add(s.id()));
    assertEquals(ids, answered);
    assertEquals(0L, b.groupLag(t.inboundStream(), t.workerGroup()).block().getAsLong());
    assertEquals(500.0, b.metrics().registry().get("sg.messages.acked").tag("stream", t.inboundStream()).counter().count());
  }

  /**
   * Shared assignment over partitions: one receiver reads every partition's stream, each with a
   * blocking reader. Most partitions stay empty (their readers block for a minute) while a few get
   * every entry: the readers of the busy partitions must not starve behind the blocked ones (they
   * once did: the first reader blocked with every slot reserved).
   */
  @Test
  void aReceiverOfManyPartitionsReadsTheBusyOnesWhileTheOthersBlock() {
    SgConfig c = config.withPartitions(12);
    RedisEventBus b = bus(Role.WORKER, c);
    b.ensureStreams(List.of()).block();
    Topology pt = c.topology();
    ReceiverOptions o = ReceiverOptions.of(pt.inboundStream(0), pt.workerGroup(), "worker-p", c.consumer())
        .withStreams(pt.inboundStreams()).withMaxInFlight(8).withReadBlock(Duration.ofSeconds(60));
    start(b, o, echo());
    // two conversations: at most two partitions get entries, ten stay empty
    List<InboundEnvelope> sent = publish(b, 300, "busy-", 2);
    Set<Integer> used = new HashSet<>();
    sent.forEach(e -> used.add(b.partitionOf(e)));
    assertTrue(used.size() <= 2, "two partitions at most: " + used);
    Set<String> ids = new HashSet<>();
    sent.forEach(e -> ids.add(e.id()));
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      Set<String> answered = new HashSet<>();
      for (String s : pt.outboundStreams("web")) {
        for (StreamMessage<String, byte[]> m : Streams.all(b, s)) {
          answered.add(((OutboundEnvelope) b.codec().decode(m.getBody().get("data"))).inReplyTo());
        }
      }
      return answered.containsAll(ids);
    });
  }

  @Test
  void entriesLeftPendingByADeadConsumerAreReclaimedByAnother() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    List<InboundEnvelope> sent = publish(b, 30, "c", 3);

    // consumer "doomed" takes 20 entries and dies without acknowledging them
    StreamReceiver doomed = StreamReceiver.create(b, workerOptions(b, "worker-doomed").withMaxInFlight(20).withReadCount(20));
    List<Delivery> taken = doomed.receive().take(20).collectList().block(Duration.ofSeconds(10));
    assertEquals(20, taken.size());
    doomed.close().block();
    assertEquals(20, Streams.pending(b, t.inboundStream(), t.workerGroup()));

    RedisEventBus b2 = bus(Role.WORKER, config);
    Map<String, Long> deliveries = new ConcurrentHashMap<>();
    start(b2, workerOptions(b2, "worker-survivor"), d -> {
      deliveries.put(((InboundEnvelope) d.envelope()).id(), d.deliveryCount());
      return echo().handle(d);
    });
    await().atMost(Duration.ofSeconds(20)).until(() -> deliveries.size() == 30);
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    Set<String> takenIds = new HashSet<>();
    taken.forEach(d -> takenIds.add(((InboundEnvelope) d.envelope()).id()));
    for (InboundEnvelope in : sent) {
      long count = deliveries.get(in.id());
      assertEquals(takenIds.contains(in.id()) ? 2 : 1, count, "server delivery count of " + in.id());
    }
    assertEquals(20.0, b2.metrics().registry().get("sg.messages.reclaimed").counter().count());
    assertEquals(30, Streams.length(b, t.outboundStream("web")));
  }

  @Test
  void aRestartedConsumerFinishesItsOwnPendingEntriesFirst() {
    RedisEventBus b = bus(Role.WORKER, config.withConsumer(config.consumer().withClaim(Duration.ofMinutes(10), Duration.ofMinutes(10))));
    b.ensureStreams(List.of("web")).block();
    publish(b, 10, "c", 2);
    StreamReceiver first = StreamReceiver.create(b, workerOptions(b, "worker-same"));
    assertEquals(10, first.receive().take(10).collectList().block(Duration.ofSeconds(10)).size());
    first.close().block();
    assertEquals(10, Streams.pending(b, t.inboundStream(), t.workerGroup()));

    // claims are far away (10 min): only the history read can find them
    List<Long> counts = new CopyOnWriteArrayList<>();
    start(b, workerOptions(b, "worker-same").withClaim(Duration.ofMinutes(10), Duration.ofMinutes(10)), d -> {
      counts.add(d.deliveryCount());
      assertTrue(d.redelivered());
      return echo().handle(d);
    });
    await().atMost(Duration.ofSeconds(10)).until(() -> counts.size() == 10);
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(Collections.nCopies(10, 2L), counts);
  }

  @Test
  void aFailingEntryIsDeadLetteredAfterTheDeliveryLimitWithItsOriginalBytes() {
    SgConfig c = config.withConsumer(config.consumer().withMaxDeliveries(3)
        .withClaim(Duration.ofMillis(200), Duration.ofMillis(50)));
    RedisEventBus b = bus(Role.WORKER, c);
    b.ensureStreams(List.of("web")).block();
    InboundEnvelope poison = InboundEnvelope.create("web", "p", "u", "poison");
    String poisonId = b.publishInbound(poison).block();
    byte[] original = Streams.all(b, t.inboundStream()).get(0).getBody().get("data");
    publish(b, 20, "ok", 4);

    List<Long> attempts = new CopyOnWriteArrayList<>();
    start(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-p", c.consumer()), d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      if (in.content().equals("poison")) {
        attempts.add(d.deliveryCount());
        return Mono.error(new IllegalStateException("cannot handle " + in.id()));
      }
      return echo().handle(d);
    });
    await().atMost(Duration.ofSeconds(20)).until(() -> Streams.length(b, t.dlqStream()) == 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(List.of(1L, 2L, 3L), attempts);
    assertEquals(20, Streams.length(b, t.outboundStream("web")));

    Map<String, byte[]> dl = Streams.all(b, t.dlqStream()).get(0).getBody();
    assertEquals(t.inboundStream(), str(dl.get("original_stream")));
    assertEquals(poisonId, str(dl.get("original_id")));
    assertEquals(t.workerGroup(), str(dl.get("group")));
    assertEquals("worker-p", str(dl.get("consumer")));
    assertEquals("3", str(dl.get("deliveries")));
    assertTrue(str(dl.get("error")).startsWith("java.lang.IllegalStateException: cannot handle"), str(dl.get("error")));
    assertArrayEquals(original, dl.get("data"));
    assertTrue(Long.parseLong(str(dl.get("ts"))) > 0);
    assertTrue(dl.containsKey("trace_id"));

    // replaying re-adds data to the original stream, and it decodes to the same envelope
    assertEquals(poison, b.codec().decode(dl.get("data")));

    var reg = b.metrics().registry();
    assertEquals(1.0, reg.get("sg.messages.dead.lettered").tag("stream", t.inboundStream()).counter().count());
    assertEquals(3.0, reg.get("sg.messages.failed").tag("stream", t.inboundStream()).counter().count());
    assertEquals(21.0, reg.get("sg.messages.acked").tag("stream", t.inboundStream()).counter().count(), "20 handled + the dead letter's XACK");
    assertTrue(reg.get("sg.handler").tag("stream", t.inboundStream()).timer().count() >= 20);
    assertTrue(reg.get("sg.end.to.end").tag("stream", t.inboundStream()).timer().count() >= 20);
  }

  @Test
  void malformedEntriesGoToTheDlqAtOnceAndTheConsumerKeepsRunning() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    Random rnd = new Random(42);
    List<Map<String, byte[]>> garbage = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      byte[] bytes = new byte[1 + rnd.nextInt(200)];
      rnd.nextBytes(bytes);
      garbage.add(Map.of("data", bytes, "ts", "1".getBytes()));
    }
    garbage.add(Map.of("ts", "1".getBytes()));                                  // no data field
    byte[] valid = b.codec().encode(InboundEnvelope.create("web", "x", "u", "truncated"));
    garbage.add(Map.of("data", java.util.Arrays.copyOf(valid, valid.length - 3)));      // truncated MessagePack
    garbage.add(Map.of("data", new byte[] {(byte) 0x92, 0x01, 0x02}));                  // an array, not a map
    List<InboundEnvelope> sent = new ArrayList<>();
    for (int i = 0; i < garbage.size(); i++) {
      Streams.add(b, t.inboundStream(), garbage.get(i));
      InboundEnvelope ok = InboundEnvelope.create("web", "c" + (i % 5), "u", "ok" + i);
      b.publishInbound(ok).block();
      sent.add(ok);
    }
    start(b, workerOptions(b, "worker-g"), echo());
    await().atMost(Duration.ofSeconds(20)).until(() -> Streams.length(b, t.outboundStream("web")) == sent.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> Streams.length(b, t.dlqStream()) == garbage.size());
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    Map<String, Integer> reasons = new HashMap<>();
    for (StreamMessage<String, byte[]> m : Streams.all(b, t.dlqStream())) {
      String err = str(m.getBody().get("error"));
      assertTrue(err.startsWith("io.sgstreams.core.envelope."), err);
      assertEquals("1", str(m.getBody().get("deliveries")), "dead-lettered on first delivery");
      reasons.merge(err.substring(0, err.indexOf(':')), 1, Integer::sum);
    }
    assertFalse(reasons.isEmpty());
    assertTrue(Streams.all(b, t.dlqStream()).stream().anyMatch(m -> str(m.getBody().get("error")).contains("no 'data' field")));
  }

  @Test
  void sameConversationRunsInStreamOrderWhileOthersRunInParallel() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    int channels = 8;
    int perChannel = 25;
    publish(b, channels * perChannel, "ch", channels);
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> busy = new ConcurrentHashMap<>();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger overlapInChannel = new AtomicInteger();
    Random rnd = new Random(7);
    // the first entry of every conversation waits until the first entries of all of them run:
    // proves they run in parallel without depending on how handler timings happen to overlap
    AtomicInteger firstsStarted = new AtomicInteger();
    Sinks.Empty<Void> allFirstsStarted = Sinks.empty();
    start(b, workerOptions(b, "worker-o").withMaxInFlight(32), d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      return Mono.defer(() -> {
        if (busy.computeIfAbsent(in.channelId(), k -> new AtomicInteger()).incrementAndGet() > 1) {
          overlapInChannel.incrementAndGet();
        }
        maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
        int n = Integer.parseInt(in.content().substring(1));
        seen.computeIfAbsent(in.channelId(), k -> new CopyOnWriteArrayList<>()).add(n);
        if (n < channels) {
          if (firstsStarted.incrementAndGet() == channels) {
            allFirstsStarted.tryEmitEmpty();
          }
          return allFirstsStarted.asMono().then(Mono.delay(Duration.ofMillis(1 + rnd.nextInt(8))));
        }
        return Mono.delay(Duration.ofMillis(1 + rnd.nextInt(8)));
      }).doOnTerminate(() -> {
        running.decrementAndGet();
        busy.get(in.channelId()).decrementAndGet();
      }).thenReturn(HandlerResult.none());
    });
    await("the first entry of every conversation runs at once").atMost(Duration.ofSeconds(60))
        .until(() -> firstsStarted.get() == channels);
    await().atMost(Duration.ofSeconds(60)).until(() -> seen.values().stream().mapToInt(List::size).sum() == channels * perChannel);
    assertEquals(0, overlapInChannel.get(), "two entries of one conversation ran at once");
    for (Map.Entry<String, List<Integer>> e : seen.entrySet()) {
      List<Integer> order = e.getValue();
      List<Integer> sorted = new ArrayList<>(order);
      Collections.sort(sorted);
      assertEquals(sorted, order, "stream order in " + e.getKey());
      assertEquals(perChannel, order.size());
    }
    assertTrue(maxRunning.get() >= channels, "conversations ran in parallel: " + maxRunning.get());
  }

  /**
   * Every handler waits on a gate, so nothing finishes until the test has seen the bound reached:
   * exactly {@code maxInFlight} handlers start (not "at least some", which depended on timing),
   * no 11th starts while they hold every slot, and Redis holds exactly those 10 as pending. Then
   * the gate opens and every entry is still handled, the bound holding throughout.
   */
  @Test
  void inFlightNeverExceedsItsBound() throws InterruptedException {
    int bound = 10;
    int total = 200;
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    publish(b, total, "c", total); // one conversation each: only the in-flight bound limits parallelism
    Sinks.Empty<Void> gate = Sinks.empty();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger started = new AtomicInteger();
    AtomicInteger maxRunning = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    Router r = start(b, workerOptions(b, "worker-slow").withMaxInFlight(bound), d ->
        Mono.defer(() -> {
          started.incrementAndGet();
          maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
          return gate.asMono();
        }).doOnTerminate(() -> {
          running.decrementAndGet();
          done.incrementAndGet();
        }).thenReturn(HandlerResult.none()));

    // the bound is reached: 10 handlers wait at the gate
    await().atMost(Duration.ofSeconds(60)).until(() -> running.get() >= bound);
    // and stays the limit: give the engine time to read (or claim) more if it would, then look
    Thread.sleep(1000);
    assertEquals(bound, started.get(), "handlers started while " + bound + " held every slot");
    assertEquals(bound, r.receiver().inFlight(), "receiver in-flight while gated");
    assertEquals(bound, Streams.pending(b, t.inboundStream(), t.workerGroup()), "entries read from Redis and not acked while gated");
    assertEquals(total - bound, b.groupLag(t.inboundStream(), t.workerGroup()).block().getAsLong(), "the rest waits unread in Redis");

    gate.tryEmitEmpty();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      maxInFlight.accumulateAndGet(r.receiver().inFlight(), Math::max);
      return done.get() == total;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
    assertEquals(total, started.get(), "every entry handled once");
    assertEquals(bound, maxRunning.get(), "handlers at once");
    assertTrue(maxInFlight.get() <= bound, "receiver in-flight after the gate opened: " + maxInFlight.get());
  }

  @Test
  void shutdownDrainsInFlightHandlersAndLeavesUnreadEntriesForOthers() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    publish(b, 100, "c", 100);
    AtomicInteger started = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Router r = start(b, workerOptions(b, "worker-drain").withMaxInFlight(10), d ->
        Mono.defer(() -> {
          started.incrementAndGet();
          return Mono.delay(Duration.ofMillis(300));
        }).doOnSuccess(v -> finished.incrementAndGet()).thenReturn(HandlerResult.none()));
    await().atMost(Duration.ofSeconds(10)).until(() -> started.get() >= 10);
    r.shutdown(Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    routers.remove(r);
    assertEquals(started.get(), finished.get(), "every started handler finished during the drain");
    assertEquals(0, Streams.pending(b, t.inboundStream(), t.workerGroup()), "what finished was acknowledged");
    long lag = b.groupLag(t.inboundStream(), t.workerGroup()).block().getAsLong();
    assertEquals(100 - finished.get(), lag, "what was not read stays unread for other consumers");
  }

  @Test
  void shutdownPastTheDrainTimeoutLeavesUnfinishedEntriesPending() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    publish(b, 20, "c", 20);
    AtomicInteger started = new AtomicInteger();
    AtomicInteger cancelled = new AtomicInteger();
    Router r = start(b, workerOptions(b, "worker-stuck").withMaxInFlight(5), d ->
        Mono.defer(() -> {
          started.incrementAndGet();
          return Mono.delay(Duration.ofSeconds(30));
        }).doOnCancel(cancelled::incrementAndGet).thenReturn(HandlerResult.none()));
    await().atMost(Duration.ofSeconds(10)).until(() -> started.get() == 5);
    r.shutdown(Duration.ofMillis(300)).block(Duration.ofSeconds(10));
    routers.remove(r);
    assertEquals(5, cancelled.get(), "handlers still running after the drain timeout are cancelled");
    assertEquals(5, Streams.pending(b, t.inboundStream(), t.workerGroup()), "unfinished entries stay pending");

    // another consumer reclaims and finishes them
    RedisEventBus b2 = bus(Role.WORKER, config);
    AtomicInteger handled = new AtomicInteger();
    start(b2, workerOptions(b2, "worker-next"), d -> {
      handled.incrementAndGet();
      return Mono.just(HandlerResult.none());
    });
    await().atMost(Duration.ofSeconds(20)).until(() -> handled.get() == 20);
    await().atMost(Duration.ofSeconds(5)).until(() -> Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0);
  }

  @Test
  void aDeletedGroupIsRecreatedAndReadingGoesOn() {
    RedisEventBus b = bus(Role.WORKER, config);
    b.ensureStreams(List.of("web")).block();
    AtomicInteger handled = new AtomicInteger();
    start(b, workerOptions(b, "worker-ng"), d -> {
      handled.incrementAndGet();
      return Mono.just(HandlerResult.none());
    });
    publish(b, 5, "c", 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> handled.get() == 5);
    b.connections().commands().xgroupDestroy(t.inboundStream(), t.workerGroup()).block();
    publish(b, 5, "c", 1);
    // recreated at 0: all 10 entries are read again, none skipped; the 5 this consumer had
    // already acknowledged are recognised as done and acknowledged again instead of re-handled
    await().atMost(Duration.ofSeconds(20)).until(() -> handled.get() == 10
        && Streams.pending(b, t.inboundStream(), t.workerGroup()) == 0
        && b.groupLag(t.inboundStream(), t.workerGroup()).block().orElse(-1) == 0);
    assertEquals(5.0, b.metrics().registry().get("sg.deliveries.settled.before.redelivery").counter().count());
    assertEquals(10, handled.get());
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unused")
  private static String field(StreamMessage<String, byte[]> m, String f) {
    return StreamFields.string(m.getBody(), f);
  }
}
