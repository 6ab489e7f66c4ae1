package io.sgstreams.core.consume;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.EmbeddedRedis;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Redis (with an fsync-always AOF) stopped and started on the same port while messages flow. */
class RedisRestartTest {

  @Test
  void theConsumerReconnectsByItselfAndNothingAcknowledgedIsLost() throws Exception {
    try (EmbeddedRedis redis = EmbeddedRedis.start(true)) {
      SgConfig config = TestRedis.config("restart");
      Topology t = config.topology();
      RedisEventBus gateway = TestRedis.bus(redis.url(), Role.GATEWAY, config);
      RedisEventBus worker = TestRedis.bus(redis.url(), Role.WORKER, config);
      try {
        worker.ensureStreams(List.of("web")).block();
        Set<String> handled = ConcurrentHashMap.newKeySet();
        Router router = Router.create(worker, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-r", config.consumer()),
            d -> {
              InboundEnvelope in = (InboundEnvelope) d.envelope();
              handled.add(in.id());
              return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content()))));
            }).start();

        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger attempted = new AtomicInteger();
        Disposable load = Flux.interval(Duration.ofMillis(2))
            .onBackpressureDrop()
            .take(2500)
            .flatMap(i -> {
              attempted.incrementAndGet();
              InboundEnvelope in = InboundEnvelope.create("web", "c" + (i % 20), "u", "m" + i);
              return gateway.publishInbound(in)
                  .doOnNext(id -> acknowledged.add(in.id()))
                  .onErrorResume(e -> {
                    failed.incrementAndGet();
                    return Mono.empty();
                  });
            }, 256)
            .subscribe();

        await().atMost(Duration.ofSeconds(20)).until(() -> handled.size() >= 300);
        redis.stopServer();
        Thread.sleep(1500); // down for a while, mid-load
        redis.startServer();
        long back = System.nanoTime();
        int handledAtRestart = handled.size();
        await().atMost(Duration.ofSeconds(15)).until(() -> handled.size() > handledAtRestart + 50);
        long resumedMs = (System.nanoTime() - back) / 1_000_000;
        assertTrue(resumedMs < 5_000 + 2_000, "resumed " + resumedMs + " ms after Redis came back");

        await().atMost(Duration.ofSeconds(60)).until(load::isDisposed);
        await().atMost(Duration.ofSeconds(60)).until(() -> handled.containsAll(acknowledged));
        await().atMost(Duration.ofSeconds(30)).until(() -> Streams.pending(worker, t.inboundStream(), t.workerGroup()) == 0);

        // every publish Redis acknowledged got its reply (at least once)
        Set<String> replied = ConcurrentHashMap.newKeySet();
        for (StreamMessage<String, byte[]> m : Streams.all(worker, t.outboundStream("web"))) {
          replied.add(((OutboundEnvelope) worker.codec().decode(m.getBody().get("data"))).inReplyTo());
        }
        assertTrue(replied.containsAll(acknowledged), "acknowledged but unanswered: "
            + acknowledged.stream().filter(id -> !replied.contains(id)).count());
        assertEquals(2500, attempted.get());
        assertTrue(acknowledged.size() >= 2000, "most publishes went through: " + acknowledged.size() + ", failed " + failed.get());
        router.shutdown().block(Duration.ofSeconds(10));
      } finally {
        gateway.close();
        worker.close();
      }
    }
  }
}
