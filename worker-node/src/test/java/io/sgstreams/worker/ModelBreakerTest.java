package io.sgstreams.worker;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A model outage must not hold every in-flight slot for timeout × retries: after 5 failures among
 * the last 10 calls the breaker opens and messages are answered at once with
 * {@code upstream_unavailable} (acknowledged, not dead-lettered); after the open period it lets a
 * call through and, the model being back, closes again.
 */
class ModelBreakerTest {
  static final Duration WITHIN = Duration.ofSeconds(30);
  static final AtomicBoolean down = new AtomicBoolean(true);
  static final AtomicInteger calls = new AtomicInteger();
  static DisposableServer server;

  @BeforeAll
  static void startFake() {
    server = HttpServer.create().host("127.0.0.1").port(0).route(r -> r
        .post("/v1/chat/completions", (req, res) -> req.receive().then(Mono.defer(() -> {
          calls.incrementAndGet();
          if (down.get()) {
            // slow and failing: what makes an outage expensive without a breaker
            return Mono.delay(Duration.ofMillis(300)).then(res.status(503).sendString(Mono.just("{\"error\":\"down\"}")).then());
          }
          return res.header("Content-Type", "application/json")
              .sendString(Mono.just(OpenAiHandlerTest.message("back again"))).then();
        }))))
        .bindNow();
  }

  @AfterAll
  static void stopFake() {
    server.disposeNow();
  }

  @Test
  void anOpenBreakerAnswersAtOnceThenRecovers() {
    try (Rig rig = new Rig(false, Map.of("SG_WORKER_HANDLER", "openai",
        "OPENAI_BASE_URL", "http://127.0.0.1:" + server.port() + "/v1",
        "SG_OPENAI_HISTORY_TURNS", "0", "SG_WORKER_CONCURRENCY", "1",
        "SG_BREAKER_FAILURES", "5", "SG_BREAKER_WINDOW", "10", "SG_BREAKER_OPEN_MS", "3000"))) {
      // five failing messages (each: one call + two retries, 300 ms each) open the breaker
      for (int i = 0; i < 5; i++) {
        InboundEnvelope in = rig.send("m" + i);
        OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
        assertEquals("upstream_unavailable", out.error().code(), "the model answered 503: " + out.content());
      }
      int callsWhenOpen = calls.get();
      assertEquals(15, callsWhenOpen, "5 messages x 3 attempts reached the model");

      // open: answered at once, the model not called
      List<Long> took = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        long t0 = System.nanoTime();
        InboundEnvelope in = rig.send("fast" + i);
        OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
        took.add((System.nanoTime() - t0) / 1_000_000);
        assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
        assertEquals("upstream_unavailable", out.error().code());
      }
      assertEquals(callsWhenOpen, calls.get(), "no call reached the model while the breaker was open");
      await().atMost(WITHIN).until(() -> Streams.pending(rig.bus, rig.config.topology().inboundStream(),
          rig.config.topology().workerGroup()) == 0);
      assertEquals(0, Streams.length(rig.bus, rig.config.topology().dlqStream()), "answered and acknowledged, not dead-lettered");
      System.out.printf("ModelBreakerTest: with the breaker open, upstream_unavailable came back in %s ms "
          + "(a failing call took ~900 ms: 3 attempts x 300 ms)%n", took);

      // the model comes back; after the open period a call goes through and the breaker closes
      down.set(false);
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(500)).until(() -> {
        InboundEnvelope in = rig.send("probe");
        OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN);
        return OutboundEnvelope.TYPE_MESSAGE.equals(out.type());
      });
      for (int i = 0; i < 3; i++) { // the half-open breaker closes after its trial calls succeed
        InboundEnvelope in = rig.send("after" + i);
        assertEquals("back again", Outbound.awaitReply(rig.bus, "web", in.id(), WITHIN).content());
      }
      assertTrue(calls.get() > callsWhenOpen);
      assertEquals("CLOSED", rig.registry.find("resilience4j.circuitbreaker.state").tag("name", "model")
          .tag("state", "closed").gauge().value() == 1.0 ? "CLOSED" : "NOT CLOSED");
    }
  }
}
