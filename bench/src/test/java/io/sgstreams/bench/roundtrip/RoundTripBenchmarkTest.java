package io.sgstreams.bench.roundtrip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.bench.roundtrip.RoundTripOptions.Mode;
import io.sgstreams.bench.roundtrip.RoundTripOptions.Via;
import io.sgstreams.core.json.Json;
import io.sgstreams.testkit.EmbeddedRedis;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Small runs of the whole harness: every request answered once, in each mode and transport. On a
 * private embedded Redis (never REDIS_URL): a run deletes and recreates the {@code sg-bench}
 * streams, which must not happen on a server someone else's {@code sg bench} may be using.
 */
class RoundTripBenchmarkTest {
  private static EmbeddedRedis redis;
  private final ByteArrayOutputStream progress = new ByteArrayOutputStream();

  @BeforeAll
  static void startRedis() {
    redis = EmbeddedRedis.start();
  }

  @AfterAll
  static void stopRedis() {
    redis.close();
  }

  private RoundTripResult run(RoundTripOptions.Builder options) throws Exception {
    return RoundTripBenchmark.run(options.build(), Map.of(), new PrintStream(progress, true, StandardCharsets.UTF_8));
  }

  private static void everyRequestAnsweredOnce(RoundTripResult r, int messages) {
    assertEquals(messages, r.messages());
    assertEquals(messages, r.measured().received(), r.jsonLine());
    assertEquals(0, r.lost(), r.jsonLine());
    assertEquals(0, r.duplicates(), r.jsonLine());
    assertEquals(0, r.measured().errors(), r.jsonLine());
    assertEquals(messages, r.measured().latencyMicros().getTotalCount());
    assertEquals(0, r.exitCode());
  }

  @Test
  void closedLoopThroughTheStream() throws Exception {
    RoundTripResult r = run(RoundTripOptions.builder().redisUrl(redis.url()).messages(2000).warmup(200).jitSettleSeconds(2)
        .workers(2).inflight(100).payloadBytes(32));
    everyRequestAnsweredOnce(r, 2000);
    JsonNode j = Json.readTree(r.jsonLine());
    // --jit-settle runs at least one step of at least 1,000 requests after --warmup's 200
    assertTrue(j.get("warmup_requests").asLong() >= 1200, r.jsonLine());
    assertTrue(j.get("jit_compile_ms").asLong() >= 0, r.jsonLine());
    assertEquals("external", j.get("redis").asText());
    assertEquals(256, j.get("worker_concurrency").asInt(), "the harness's default for SG_WORKER_CONCURRENCY");
    assertTrue(j.get("throughput_msgs_per_s").asDouble() > 0);
    String out = progress.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("warmup: 200 requests"), out);
    assertTrue(out.contains("warmup: JIT quiet after") || out.contains("warmup: JIT still compiling after"), out);
    assertTrue(out.contains("measuring: 2000 requests (closed loop, 100 in flight, via stream, 2 workers)"), out);
  }

  @Test
  void openLoopForADuration() throws Exception {
    RoundTripResult r = run(RoundTripOptions.builder().redisUrl(redis.url()).mode(Mode.OPEN).rate(500).durationSeconds(1)
        .warmup(0).workers(1));
    everyRequestAnsweredOnce(r, 500);
    assertTrue(r.measured().seconds() >= 0.99, "paced over a second: " + r.measured().seconds());
  }

  @Test
  void closedLoopThroughTheGatewaysHttpApi() throws Exception {
    RoundTripResult r = run(RoundTripOptions.builder().redisUrl(redis.url()).via(Via.HTTP).messages(300).warmup(50)
        .jitSettleSeconds(0).workers(1).inflight(20));
    everyRequestAnsweredOnce(r, 300);
    assertEquals(50, Json.readTree(r.jsonLine()).get("warmup_requests").asLong(), "--jit-settle 0: only --warmup's");
    assertFalse(progress.toString(StandardCharsets.UTF_8).contains("warmup: JIT"));
  }

  @Test
  void withoutARedisUrlItStartsAnEmbeddedRedis() throws Exception {
    RoundTripResult r = run(RoundTripOptions.builder().messages(200).warmup(0).workers(1).inflight(10));
    everyRequestAnsweredOnce(r, 200);
    assertEquals("embedded", Json.readTree(r.jsonLine()).get("redis").asText());
  }
}
