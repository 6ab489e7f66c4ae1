package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code SG_PUBLISH_REPLICAS}: the test Redis has no replica, so a publish that must wait for one is
 * written and then fails with {@link ReplicationTimeoutException} (the client is told, nothing is
 * silently taken as durable); with 0 the same publish succeeds at once.
 */
class ReplicatedWritesTest {
  @Test
  void aPublishWaitingForAMissingReplicaFailsAfterTheWaitButStaysWritten() {
    SgConfig base = TestRedis.config("rw");
    SgConfig one = base.withPartitions(base.partitions().withCount(4).withPublishReplicas(1));
    try (RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.GATEWAY, one);
        RedisEventBus plain = TestRedis.bus(TestRedis.url(), Role.GATEWAY, base.withPartitions(4).withNodeId("rw2"))) {
      bus.ensureStreams(List.of()).block(Duration.ofSeconds(10));
      InboundEnvelope in = InboundEnvelope.create("web", "c1", "u", "hello").withTenant("acme");
      ReplicationTimeoutException e = assertThrows(ReplicationTimeoutException.class,
          () -> bus.publishInbound(in).block(Duration.ofSeconds(10)));
      assertEquals(1, e.wanted());
      assertEquals(0, e.acked());
      String stream = bus.inboundStreamFor(in);
      assertEquals(1, Streams.length(bus, stream), "the entry was written");
      assertTrue(e.getMessage().contains(e.entryId()), e.getMessage());
      // the same publish without SG_PUBLISH_REPLICAS: no wait
      String id = plain.publishInbound(InboundEnvelope.create("web", "c1", "u", "again").withTenant("acme")).block(Duration.ofSeconds(10));
      assertTrue(id != null && !id.isEmpty());
      assertEquals(2, Streams.length(bus, stream));
    }
  }
}
