package io.sgstreams.worker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** Two workers share the inbound stream; when one dies with work pending, the other finishes it. */
class WorkerFailoverTest {
  static final Duration WITHIN = Duration.ofSeconds(20);

  @Test
  void twoWorkersShareTheLoadAndTheSurvivorFinishesTheDeadOnesWork() {
    String url = TestRedis.url();
    SgConfig config = TestRedis.config("w1");
    String inbound = config.topology().inboundStream();
    String group = config.topology().workerGroup();
    WorkerConfig settings = Rig.workerConfig(Map.of("SG_WORKER_HANDLER", "slow-echo", "SG_WORKER_ADMIN_PORT", "-1"));
    RedisEventBus bus1 = TestRedis.bus(url, Role.WORKER, config);
    RedisEventBus bus2 = TestRedis.bus(url, Role.WORKER, config.withNodeId("w2"));
    WorkerNode w1 = WorkerNode.start(bus1, settings, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    WorkerNode w2 = WorkerNode.start(bus2, settings, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    try {
      // 4 conversations of 50 messages: each runs in order within a node, 100 ms a message, so work stays in flight
      List<InboundEnvelope> sent = IntStream.range(0, 200)
          .mapToObj(i -> InboundEnvelope.create("web", "chan-" + (i % 4), "u", "m" + i))
          .toList();
      Flux.fromIterable(sent).concatMap(bus1::publishInbound).blockLast(WITHIN);

      // both have handled some, and w1 still has work pending when it dies
      await().atMost(WITHIN).until(() -> handledBy(bus2, "w1") >= 5 && handledBy(bus2, "w2") >= 5);
      long pendingW1 = bus1.pendingRange(inbound, group, "worker-w1", "-", "+", 1000).count().block(WITHIN);
      assertTrue(pendingW1 > 0, "w1 should have entries pending when it dies");
      w1.shutdown(Duration.ZERO).block(WITHIN); // abandon in-flight work: no drain
      bus1.close();

      Set<String> ids = sent.stream().map(InboundEnvelope::id).collect(Collectors.toSet());
      await().atMost(WITHIN).until(() -> answered(bus2).containsAll(ids));
      await().atMost(WITHIN).until(() -> Streams.pending(bus2, inbound, group) == 0);
      assertTrue(handledBy(bus2, "w2") > 0 && handledBy(bus2, "w1") > 0);
      assertEquals(ids, answered(bus2));
    } finally {
      w2.shutdown().block(WITHIN);
      bus2.close();
    }
  }

  static long handledBy(RedisEventBus bus, String node) {
    return Outbound.all(bus, "web").stream().filter(o -> o.content().equals(node)).count();
  }

  static Set<String> answered(RedisEventBus bus) {
    return new HashSet<>(Outbound.all(bus, "web").stream().map(OutboundEnvelope::inReplyTo).toList());
  }
}
