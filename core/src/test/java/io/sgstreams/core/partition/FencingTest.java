package io.sgstreams.core.partition;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.consume.Fence;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PartitionedRouter;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * The lease fence: a worker whose lease on a partition is gone (expired, taken) can neither publish
 * to the partition's keys nor acknowledge its entries; a dead letter of a leased partition goes to
 * the partition's DLQ together with its XACK.
 */
class FencingTest {
  static final Duration T = Duration.ofSeconds(10);

  @Test
  void aStaleLeaseHolderCanNeitherPublishNorAcknowledge() {
    SgConfig config = TestRedis.config("fence").withPartitions(4);
    try (RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config)) {
      bus.ensureStreams(List.of()).block(T);
      Topology t = bus.topology();
      PartitionLeases mine = new PartitionLeases(bus, t.workerGroup(), "worker-a", Duration.ofSeconds(5));
      PartitionLeases theirs = new PartitionLeases(bus, t.workerGroup(), "worker-b", Duration.ofSeconds(5));
      InboundEnvelope in = InboundEnvelope.create("web", "c-1", "u", "hi").withTenant("acme");
      int p = bus.partitionOf(in);
      String inbound = t.inboundStream(p);
      String outbound = t.outboundStream("web", p);
      bus.publishInbound(in).block(T);
      String entry = Streams.all(bus, inbound).get(0).getId();
      // worker-a reads the entry, then loses its lease to worker-b (its own expired, say)
      bus.connections().commands().xreadgroup(io.lettuce.core.Consumer.from(t.workerGroup(), "worker-a"),
          io.lettuce.core.XReadArgs.StreamOffset.lastConsumed(inbound)).collectList().block(T);
      Fence stale = mine.acquire(p).block(T);
      assertTrue(mine.release(stale).block(T));
      Fence current = theirs.acquire(p).block(T);
      assertTrue(current.token().startsWith("worker-b:"));
      assertFalse(mine.renew(stale).block(T), "a released lease is not renewed");

      OutboundEnvelope reply = OutboundEnvelope.replyTo(in, "message", "late");
      Throwable e = assertThrows(RuntimeException.class, () -> bus.publishFenced(outbound, reply, stale).block(T));
      assertTrue(Fence.isFenced(e), e.toString());
      e = assertThrows(RuntimeException.class,
          () -> bus.publishAndAck(outbound, reply, stale, inbound, t.workerGroup(), entry).block(T));
      assertTrue(Fence.isFenced(e), e.toString());
      assertEquals(0, Streams.length(bus, outbound), "nothing published with a stale lease");
      assertEquals(1, Streams.pending(bus, inbound, t.workerGroup()), "nothing acknowledged with a stale lease");

      // the holder of the current lease can do both, in one step
      bus.publishAndAck(outbound, reply, current, inbound, t.workerGroup(), entry).block(T);
      assertEquals(1, Streams.length(bus, outbound));
      assertEquals(0, Streams.pending(bus, inbound, t.workerGroup()));
    }
  }

  @Test
  void aStaleLeaseHolderReadsNothingNewFromThePartition() {
    SgConfig config = TestRedis.config("fread").withPartitions(4);
    try (RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config)) {
      bus.ensureStreams(List.of()).block(T);
      Topology t = bus.topology();
      PartitionLeases mine = new PartitionLeases(bus, t.workerGroup(), "worker-s", Duration.ofSeconds(5));
      PartitionLeases theirs = new PartitionLeases(bus, t.workerGroup(), "worker-t", Duration.ofSeconds(5));
      Fence stale = mine.acquire(1).block(T);
      // while worker-s holds it, its receiver reads the partition's new entries
      java.util.concurrent.atomic.AtomicInteger fencedSignals = new java.util.concurrent.atomic.AtomicInteger();
      java.util.List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
      ReceiverOptions o = ReceiverOptions.of(t.inboundStream(1), t.workerGroup(), "worker-s", config.consumer())
          .withReadBlock(Duration.ofMillis(300));
      var rx = io.sgstreams.core.consume.StreamReceiver.create(bus, o, stale, fencedSignals::incrementAndGet);
      java.util.List<Long> counts = new java.util.concurrent.CopyOnWriteArrayList<>();
      var sub = rx.receive().subscribe(d -> {
        got.add(d.id());
        counts.add(d.deliveryCount());
        d.ack().subscribe();
      });
      try {
        String first = bus.publishFields(t.inboundStream(1), io.sgstreams.core.bus.StreamFields.of(new byte[] {1}, 1, "")).block(T);
        await().atMost(T).until(() -> got.contains(first));
        assertEquals(List.of(1L), counts, "read by the fenced read itself, not reclaimed after a failed read");
        // the lease moves on (worker-s stalled past its TTL, say): nothing more is read by worker-s
        assertTrue(mine.release(stale).block(T));
        theirs.acquire(1).block(T);
        String second = bus.publishFields(t.inboundStream(1), io.sgstreams.core.bus.StreamFields.of(new byte[] {2}, 2, "")).block(T);
        await().atMost(T).until(() -> fencedSignals.get() > 0);
        Thread.sleep(1000); // reads keep being refused, none succeeds
        assertEquals(List.of(first), got);
        assertEquals(0, Streams.pending(bus, t.inboundStream(1), t.workerGroup()), "the new entry is left for the owner, not taken");
        assertTrue(second != null);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      } finally {
        sub.dispose();
        rx.close().block(T);
      }
    }
  }

  @Test
  void aLeasedPartitionsDeadLetterGoesToItsOwnDlqWithItsAck() {
    SgConfig config = TestRedis.config("fdlq").withPartitions(4);
    try (RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config)) {
      bus.ensureStreams(List.of()).block(T);
      Topology t = bus.topology();
      ReceiverOptions opts = ReceiverOptions.of(t.inboundStream(0), t.workerGroup(), "worker-d", config.consumer())
          .withStreams(t.inboundStreams());
      PartitionedRouter pr = new PartitionedRouter(bus, opts, Duration.ofSeconds(3),
          (receiver, publisher) -> Router.create(receiver, publisher, bus.metrics(),
              d -> Mono.<HandlerResult>error(new PermanentFailure("poison")), List.of())).start();
      try {
        await().atMost(T).until(() -> pr.owned().size() == 4);
        InboundEnvelope in = InboundEnvelope.create("web", "c-9", "u", "poison").withTenant("acme");
        int p = bus.partitionOf(in);
        bus.publishInbound(in).block(T);
        await().atMost(T).until(() -> Streams.length(bus, t.dlqStream(p)) == 1);
        await().atMost(T).until(() -> Streams.pending(bus, t.inboundStream(p), t.workerGroup()) == 0);
        for (int q = 0; q < 4; q++) {
          assertEquals(q == p ? 1 : 0, Streams.length(bus, t.dlqStream(q)), "DLQ of partition " + q);
        }
      } finally {
        pr.shutdown(Duration.ofSeconds(2)).block(T);
      }
    }
  }
}
