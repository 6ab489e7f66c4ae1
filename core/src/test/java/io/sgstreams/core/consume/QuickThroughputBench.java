package io.sgstreams.core.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A quick publish + consume figure, not a benchmark suite (that is {@code sg bench}):
 * {@code ./mvnw -pl core test -Dgroups=bench -Dtest=QuickThroughputBench -Dsg.excludedGroups=}
 * (with {@code REDIS_URL} for an external Redis). Prints, asserts only completeness.
 */
@Tag("bench")
class QuickThroughputBench {
  @Test
  void publishThenEchoThroughWorkers() {
    int n = Integer.getInteger("sg.bench.messages", 100_000);
    int workers = Integer.getInteger("sg.bench.workers", 4);
    SgConfig config = TestRedis.config("bench");
    config = config.withTopology(config.topology().withMaxLen(n * 2L))
        .withConsumer(config.consumer().withClaim(Duration.ofSeconds(60), Duration.ofSeconds(5)));
    Topology t = config.topology();
    RedisEventBus pub = TestRedis.bus(TestRedis.url(), Role.GATEWAY, config);
    List<RedisEventBus> buses = new ArrayList<>();
    List<Router> routers = new ArrayList<>();
    try {
      pub.ensureGroup(t.inboundStream(), t.workerGroup()).block();
      String payload = "x".repeat(256);
      AtomicLong handled = new AtomicLong();
      long t0 = System.nanoTime();
      Flux.range(0, n)
          .flatMap(i -> pub.publishInbound(InboundEnvelope.create("web", "c" + (i % 1000), "u", payload)), 1024)
          .blockLast();
      long t1 = System.nanoTime();
      for (int w = 0; w < workers; w++) {
        RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
        buses.add(b);
        routers.add(Router.create(b, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-" + w, config.consumer())
                .withReadCount(200).withMaxInFlight(512),
            d -> {
              handled.incrementAndGet();
              InboundEnvelope in = (InboundEnvelope) d.envelope();
              return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content()))));
            }).start());
      }
      long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
      while (handled.get() < n && System.nanoTime() < deadline) {
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      long t2 = System.nanoTime();
      double pubRate = n / ((t1 - t0) / 1e9);
      double consumeRate = n / ((t2 - t1) / 1e9);
      System.out.printf("%nQUICK-THROUGHPUT messages=%d workers=%d payload=256B publish=%.0f msg/s consume+echo+ack=%.0f msg/s%n",
          n, workers, pubRate, consumeRate);
      assertEquals(n, handled.get());
    } finally {
      routers.forEach(r -> r.shutdown().block(Duration.ofSeconds(10)));
      buses.forEach(RedisEventBus::close);
      pub.connections().commands().del(t.inboundStream(), t.outboundStream("web")).block();
      pub.close();
    }
  }
}
