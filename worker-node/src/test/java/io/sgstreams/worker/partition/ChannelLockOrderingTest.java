package io.sgstreams.worker.partition;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.PartitionsConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.Outbound;
import io.sgstreams.worker.WorkerNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Flux;

/**
 * {@code SG_ORDERING=channel-lock} with shared assignment: every worker reads every partition, and
 * conversations still run one entry at a time in stream order across workers. Conversations are sent
 * in bursts (each one's entries in flight together, read by different workers), one worker abandons
 * its work mid-way (no drain: its entries are claimed by the others) and another joins. The control
 * runs the same bursts with {@code local} ordering and must see a reordering: the race is real.
 */
class ChannelLockOrderingTest {
  static final int CHANNELS = 120;
  static final int WAVES = 3;
  static final int PER_WAVE = 5;
  static final Duration WITHIN = Duration.ofSeconds(120);

  @ParameterizedTest(name = "P={0}")
  @ValueSource(ints = {1, 4})
  void conversationsStayInOrderAcrossSharedWorkers(int partitions) throws Exception {
    Run run = new Run("cl" + partitions, partitions, PartitionsConfig.Ordering.CHANNEL_LOCK);
    try {
      run.start("a");
      run.start("b");
      run.start("c");
      for (int wave = 0; wave < WAVES; wave++) {
        run.burst(wave);
        if (wave == 0) {
          Thread.sleep(150);
          run.abandon("c"); // its in-flight and waiting entries stay pending: claimed by a and b after claim_min_idle
        }
        if (wave == 1) {
          run.start("d");
        }
      }
      Map<String, Long> answers = run.awaitAnswers();

      // each message answered; a second answer only from the abandoned worker (reply written, ack not: shared mode's window)
      List<String> twice = answers.entrySet().stream().filter(e -> e.getValue() != 1).map(Map.Entry::getKey).toList();
      Set<String> byAbandoned = run.answeredBy("c");
      assertTrue(byAbandoned.containsAll(twice), "answered twice by live workers: " + twice);

      // order: the sequence numbers each conversation was handled in never go back (a redelivery of the
      // abandoned worker's cancelled handling may repeat one)
      List<String> violations = run.violations();
      assertEquals(List.of(), violations, "conversations handled out of order");
      // and answered in order: each conversation's replies on the outbound stream follow its sequence
      List<String> replyOrder = run.replyViolations();
      assertEquals(List.of(), replyOrder, "conversations answered out of order");

      // the race happened: conversations were handled by several workers, and entries waited for their turn
      long spanning = run.spanning();
      System.out.printf("channel-lock P=%d: %d messages, %d conversations answered by more than one worker, %d answered "
          + "twice (abandoned worker), by worker %s%n", partitions, run.sent.size(), spanning, twice.size(), run.perWorker());
      assertTrue(spanning > CHANNELS / 4, "conversations did not spread over the workers: " + spanning);
    } finally {
      run.close();
    }
  }

  @Test
  void aFailedEntryHoldsItsConversationUntilItsRetrySucceeds() throws Exception {
    Run run = new Run("clf", 1, PartitionsConfig.Ordering.CHANNEL_LOCK);
    try {
      OrderProbeHandlerFactory.failFirstDeliveryOf(seq -> seq % PER_WAVE == 2);
      run.start("a");
      run.start("b");
      run.start("c");
      run.burst(0);
      Map<String, Long> answers = run.awaitAnswers(1);
      assertEquals(List.of(), answers.entrySet().stream().filter(e -> e.getValue() != 1).toList(), "answered twice");
      assertEquals(List.of(), run.replyViolations(), "a conversation went on past its failed entry");
      // each conversation: 0, 1, 2 (failed), 2 (retry, after claim_min_idle, by whichever worker claimed it), 3, 4
      Map<String, List<Integer>> handled = OrderProbeHandlerFactory.handled();
      List<String> wrong = handled.entrySet().stream()
          .filter(e -> !e.getValue().equals(List.of(0, 1, 2, 2, 3, 4))).map(e -> e.getKey() + " " + e.getValue()).toList();
      assertEquals(List.of(), wrong, "handled order with one failure per conversation");
      System.out.printf("channel-lock with failures: %d conversations, each held at its failed entry until the retry%n",
          handled.size());
    } finally {
      run.close();
    }
  }

  @Test
  void withoutTheLockSharedWorkersReorderConversations() throws Exception {
    Run run = new Run("cl0", 1, PartitionsConfig.Ordering.LOCAL);
    try {
      run.start("a");
      run.start("b");
      run.start("c");
      for (int wave = 0; wave < WAVES; wave++) {
        run.burst(wave);
      }
      run.awaitAnswers();
      List<String> violations = run.violations();
      List<String> replyOrder = run.replyViolations();
      System.out.printf("local ordering, shared: %d of %d conversations handled out of order, %d answered out of order%n",
          violations.size(), CHANNELS, replyOrder.size());
      assertTrue(!violations.isEmpty() || !replyOrder.isEmpty(),
          "shared workers never reordered a conversation: the ordering test proves nothing");
    } finally {
      run.close();
    }
  }

  @Test
  void aWorkerWithoutTheLockRefusesToJoinChannelLockWorkers() {
    String url = TestRedis.url();
    SgConfig base = TestRedis.config("mx1");
    SgConfig locked = base.withPartitions(base.partitions().withOrdering(PartitionsConfig.Ordering.CHANNEL_LOCK));
    try (RedisEventBus first = TestRedis.bus(url, Role.WORKER, locked);
        RedisEventBus plain = TestRedis.bus(url, Role.WORKER, base.withNodeId("mx2"))) {
      first.ensureStreams(List.of()).block(WITHIN);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> plain.ensureStreams(List.of()).block(WITHIN));
      assertTrue(e.getMessage().contains("SG_ORDERING=channel-lock"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> base.partitions().withCount(4)
        .withAssignment(PartitionsConfig.Assignment.LEASE).withOrdering(PartitionsConfig.Ordering.CHANNEL_LOCK));
  }

  /** Workers of one deployment in this JVM, the conversations sent to them and what they answered. */
  static final class Run implements AutoCloseable {
    final String url = TestRedis.url();
    final SgConfig config;
    final WorkerConfig settings;
    final RedisEventBus probe;
    final Map<String, RedisEventBus> buses = new ConcurrentHashMap<>();
    final Map<String, WorkerNode> nodes = new ConcurrentHashMap<>();
    final List<InboundEnvelope> sent = Collections.synchronizedList(new ArrayList<>());
    final String prefix;

    Run(String prefix, int partitions, PartitionsConfig.Ordering ordering) {
      OrderProbeHandlerFactory.reset();
      this.prefix = prefix;
      SgConfig base = TestRedis.config(prefix + "probe");
      this.config = base.withPartitions(base.partitions().withCount(partitions)
          .withAssignment(PartitionsConfig.Assignment.SHARED).withOrdering(ordering));
      this.settings = ConfigLoader.load(null, Map.of("SG_WORKER_HANDLER", OrderProbeHandlerFactory.NAME,
          "SG_WORKER_ADMIN_PORT", "-1", "SG_NODE_ID", "x")).worker();
      this.probe = TestRedis.bus(url, Role.GATEWAY, config);
      probe.ensureStreams(List.of()).block(WITHIN);
    }

    void start(String id) {
      RedisEventBus b = TestRedis.bus(url, Role.WORKER, config.withNodeId(prefix + id));
      buses.put(id, b);
      nodes.put(id, WorkerNode.start(b, settings, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
    }

    void abandon(String id) {
      nodes.remove(id).shutdown(Duration.ZERO).block(WITHIN);
      buses.remove(id).close();
    }

    /** Every conversation's next {@link #PER_WAVE} messages, published back to back (in order), all conversations at once. */
    void burst(int wave) {
      Flux.range(0, CHANNELS)
          .flatMap(c -> Flux.range(wave * PER_WAVE, PER_WAVE).concatMap(seq -> {
            InboundEnvelope in = InboundEnvelope.create("web", "conv-" + c, "u", Integer.toString(seq))
                .withTenant(c % 2 == 0 ? "acme" : "default");
            return probe.publishInbound(in).doOnNext(id -> sent.add(in));
          }), CHANNELS)
          .blockLast(WITHIN);
    }

    Map<String, Long> awaitAnswers() {
      return awaitAnswers(WAVES);
    }

    Map<String, Long> awaitAnswers(int waves) {
      Set<String> ids = sent.stream().map(InboundEnvelope::id).collect(Collectors.toSet());
      assertEquals(CHANNELS * waves * PER_WAVE, ids.size());
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(200)).until(() -> answers().keySet().containsAll(ids));
      Map<String, Long> a = answers();
      assertEquals(ids, a.keySet());
      return a;
    }

    Map<String, Long> answers() {
      return Outbound.all(probe, "web").stream().collect(Collectors.groupingBy(OutboundEnvelope::inReplyTo, Collectors.counting()));
    }

    Set<String> answeredBy(String id) {
      return Outbound.all(probe, "web").stream().filter(o -> o.content().equals(prefix + id))
          .map(OutboundEnvelope::inReplyTo).collect(Collectors.toSet());
    }

    Map<String, Long> perWorker() {
      return Outbound.all(probe, "web").stream().collect(Collectors.groupingBy(OutboundEnvelope::content, java.util.TreeMap::new,
          Collectors.counting()));
    }

    List<String> violations() {
      Map<String, List<Integer>> handled = OrderProbeHandlerFactory.handled();
      assertEquals(CHANNELS, handled.size());
      List<String> out = new ArrayList<>();
      handled.forEach((conv, seqs) -> {
        int high = -1;
        for (int s : seqs) {
          if (s < high) {
            out.add(conv + " " + seqs);
            break;
          }
          high = Math.max(high, s);
        }
      });
      return out;
    }

    /** Per conversation, the first answer of each message in outbound-stream order: its sequence numbers never go back. */
    List<String> replyViolations() {
      Map<String, Integer> seqOf = new HashMap<>();
      synchronized (sent) {
        sent.forEach(in -> seqOf.put(in.id(), Integer.parseInt(in.content())));
      }
      Set<String> seen = new HashSet<>();
      Map<String, List<Integer>> order = new java.util.LinkedHashMap<>();
      for (OutboundEnvelope o : Outbound.all(probe, "web")) {
        if (seen.add(o.inReplyTo())) {
          order.computeIfAbsent(o.tenant() + "/" + o.channelId(), k -> new ArrayList<>()).add(seqOf.get(o.inReplyTo()));
        }
      }
      List<String> out = new ArrayList<>();
      order.forEach((conv, seqs) -> {
        for (int i = 1; i < seqs.size(); i++) {
          if (seqs.get(i) < seqs.get(i - 1)) {
            out.add(conv + " " + seqs);
            break;
          }
        }
      });
      return out;
    }

    long spanning() {
      Map<String, Set<String>> workers = new HashMap<>();
      for (OutboundEnvelope o : Outbound.all(probe, "web")) {
        workers.computeIfAbsent(o.tenant() + "/" + o.channelId(), k -> new HashSet<>()).add(o.content());
      }
      return workers.values().stream().filter(s -> s.size() > 1).count();
    }

    @Override
    public void close() {
      for (WorkerNode n : nodes.values()) {
        n.shutdown(Duration.ZERO).block(WITHIN);
      }
      buses.values().forEach(RedisEventBus::close);
      probe.close();
    }
  }
}
