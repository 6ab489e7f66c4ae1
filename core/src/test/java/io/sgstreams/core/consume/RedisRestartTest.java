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
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.testkit.EmbeddedRedis;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Redis (with an fsync-always AOF) stopped and started on the same port while messages flow. */
class RedisRestartTest {

  @Test
  void theConsumerReconnectsByItselfAndNothingAcknowledgedIsLost() throws Exception {
    try (EmbeddedRedis redis = EmbeddedRedis.start(EmbeddedRedis.Persistence.AOF_FSYNC_ALWAYS)) {
      SgConfig config = TestRedis.config("restart");
      Topology t = config.topology();
      RedisEventBus gateway = TestRedis.bus(redis.url(), Role.GATEWAY, config);
      RedisEventBus worker = TestRedis.bus(redis.url(), Role.WORKER, config);
      try {
        worker.ensureStreams(List.of("web")).block();
        Set<String> handled = ConcurrentHashMap.newKeySet();
        AtomicLong restartedAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstHandledAfterRestart = new AtomicLong();
        Router router = Router.create(worker, ReceiverOptions.of(t.inboundStream(), t.workerGroup(), "worker-r", config.consumer()),
            d -> {
              InboundEnvelope in = (InboundEnvelope) d.envelope();
              handled.add(in.id());
              long now = System.nanoTime();
              if (now >= restartedAt.get()) {
                firstHandledAfterRestart.compareAndSet(0, now);
              }
              return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, "message", in.content()))));
            }).start();

        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        Set<String> acknowledgedAfterRestart = ConcurrentHashMap.newKeySet();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger attempted = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        // publishes until told to stop (not a fixed count: the load must still flow after the restart)
        Disposable load = Flux.interval(Duration.ofMillis(2))
            .onBackpressureDrop()
            .takeWhile(i -> !stop.get())
            .flatMap(i -> {
              attempted.incrementAndGet();
              long sentAt = System.nanoTime();
              InboundEnvelope in = InboundEnvelope.create("web", "c" + (i % 20), "u", "m" + i);
              return gateway.publishInbound(in)
                  .doOnNext(id -> {
                    acknowledged.add(in.id());
                    if (sentAt >= restartedAt.get()) {
                      acknowledgedAfterRestart.add(in.id());
                    }
                  })
                  .onErrorResume(e -> {
                    failed.incrementAndGet();
                    return Mono.empty();
                  });
            }, 256)
            .subscribe();

        await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= 300);
        redis.stopServer();
        Thread.sleep(1500); // down for a while, mid-load
        int handledAtRestart = handled.size();
        redis.startServer();
        long back = System.nanoTime();
        restartedAt.set(back);

        // the outcome: messages published after Redis came back are handled (the consumer reconnected
        // by itself). How long that took is measured and reported, not asserted.
        await("publishes acknowledged after the restart").atMost(Duration.ofSeconds(60))
            .until(() -> acknowledgedAfterRestart.size() >= 500);
        Set<String> sentAfterRestart = Set.copyOf(acknowledgedAfterRestart);
        await("publishes sent after the restart handled").atMost(Duration.ofSeconds(60))
            .until(() -> handled.containsAll(sentAfterRestart));
        long resumedMs = (System.nanoTime() - back) / 1_000_000;
        stop.set(true);
        await().atMost(Duration.ofSeconds(60)).until(load::isDisposed);
        System.out.printf("RedisRestartTest: %d handled when Redis came back; first entry handled %d ms after it;"
                + " %d publishes sent after it acknowledged and handled %d ms after it (reported, not asserted);"
                + " %d publishes attempted, %d acknowledged, %d failed%n",
            handledAtRestart, (firstHandledAfterRestart.get() - back) / 1_000_000, sentAfterRestart.size(), resumedMs,
            attempted.get(), acknowledged.size(), failed.get());

        await().atMost(Duration.ofSeconds(60)).until(() -> handled.containsAll(acknowledged));
        await().atMost(Duration.ofSeconds(60)).until(() -> Streams.pending(worker, t.inboundStream(), t.workerGroup()) == 0);

        // every publish Redis acknowledged got its reply (at least once)
        Set<String> replied = ConcurrentHashMap.newKeySet();
        for (StreamMessage<String, byte[]> m : Streams.all(worker, t.outboundStream("web"))) {
          replied.add(((OutboundEnvelope) worker.codec().decode(m.getBody().get("data"))).inReplyTo());
        }
        assertTrue(replied.containsAll(acknowledged), "acknowledged but unanswered: "
            + acknowledged.stream().filter(id -> !replied.contains(id)).count());
        // every publish ended one way or the other: acknowledged by Redis, or failed (none hangs)
        assertEquals(attempted.get(), acknowledged.size() + failed.get(), "publishes neither acknowledged nor failed");
        router.shutdown().block(Duration.ofSeconds(10));
      } finally {
        gateway.close();
        worker.close();
      }
    }
  }
}
