package io.sgstreams.bench.roundtrip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.bench.roundtrip.RoundTripOptions.Mode;
import io.sgstreams.bench.roundtrip.RoundTripOptions.Via;
import io.sgstreams.core.json.Json;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The JSON line is read by bench/run-all.sh and other tooling: names, order and units must not change. */
class RoundTripResultTest {
  private static final List<String> FIELDS = List.of("impl", "mode", "messages", "seconds", "throughput_msgs_per_s",
      "p50_ms", "p99_ms", "p999_ms", "max_ms", "lost", "duplicates", "errors", "workers", "payload_bytes", "inflight",
      "rate", "via", "client_cpu_s", "redis_cpu_s", "heap_after_gc_start_mb", "heap_after_gc_end_mb", "rss_start_mb",
      "rss_end_mb", "worker_concurrency", "read_count", "redis", "journal", "warmup_requests", "jit_compile_ms");

  private static PhaseResult phase(long lost) {
    Histogram h = new Histogram(120_000_000L, 3);
    for (int i = 1; i <= 1000; i++) {
      h.recordValue(i * 100L); // 0.1 ms .. 100 ms
    }
    return new PhaseResult(2.0, 1000, lost, 1, 2, h);
  }

  private static final ResourceSnapshot BEFORE = new ResourceSnapshot(1_000_000_000L, 10.0, 20, 150, 4_000);
  private static final ResourceSnapshot AFTER = new ResourceSnapshot(3_555_000_000L, 11.25, 22, 160, 4_250);

  @Test
  void closedLoopLine() throws Exception {
    RoundTripOptions o = RoundTripOptions.builder().messages(1000).workers(3).payloadBytes(64).inflight(50).build();
    RoundTripResult r = new RoundTripResult(o, 1000, phase(0), BEFORE, AFTER, 256, 128, true);
    String line = r.jsonLine();
    assertFalse(line.contains("\n"));
    JsonNode j = Json.readTree(line);
    List<String> names = new ArrayList<>();
    j.fieldNames().forEachRemaining(names::add);
    assertEquals(FIELDS, names);

    assertEquals("sg", j.get("impl").asText());
    assertEquals("closed", j.get("mode").asText());
    assertEquals(1000, j.get("messages").asInt());
    assertEquals(2.0, j.get("seconds").asDouble());
    assertEquals(500.0, j.get("throughput_msgs_per_s").asDouble());
    assertEquals(50.0, j.get("p50_ms").asDouble(), 0.1);
    assertEquals(99.0, j.get("p99_ms").asDouble(), 0.1);
    assertEquals(99.9, j.get("p999_ms").asDouble(), 0.1);
    assertEquals(100.0, j.get("max_ms").asDouble(), 0.1);
    assertEquals(0, j.get("lost").asLong());
    assertEquals(1, j.get("duplicates").asLong());
    assertEquals(2, j.get("errors").asLong());
    assertEquals(3, j.get("workers").asInt());
    assertEquals(64, j.get("payload_bytes").asInt());
    assertEquals(50, j.get("inflight").asInt());
    assertTrue(j.get("rate").isNull());
    assertEquals("stream", j.get("via").asText());
    assertEquals(2.56, j.get("client_cpu_s").asDouble()); // 2.555 s rounded to 2 places
    assertEquals(1.25, j.get("redis_cpu_s").asDouble());
    assertEquals(20, j.get("heap_after_gc_start_mb").asLong());
    assertEquals(22, j.get("heap_after_gc_end_mb").asLong());
    assertEquals(150, j.get("rss_start_mb").asLong());
    assertEquals(160, j.get("rss_end_mb").asLong());
    assertEquals(256, j.get("worker_concurrency").asInt());
    assertEquals(128, j.get("read_count").asInt());
    assertEquals("embedded", j.get("redis").asText());
    assertFalse(j.get("journal").asBoolean());
    assertEquals(100_000, j.get("warmup_requests").asLong(), "without --jit-settle's count: --warmup's");
    assertEquals(250, j.get("jit_compile_ms").asLong());
    assertEquals(0, r.exitCode());
  }

  @Test
  void withTheJournalTheLineEndsWithItsRowsAndRate() throws Exception {
    RoundTripOptions o = RoundTripOptions.builder().journal(true).build();
    RoundTripResult r = new RoundTripResult(o, 1000, phase(0), BEFORE, AFTER, 256, 256, true,
        new RoundTripResult.JournalFigures(2000, 4.0, 0.25, true));
    JsonNode j = Json.readTree(r.jsonLine());
    List<String> names = new ArrayList<>();
    j.fieldNames().forEachRemaining(names::add);
    List<String> expected = new ArrayList<>(FIELDS);
    expected.addAll(List.of("journal_rows", "journal_rows_per_s", "journal_catch_up_s", "postgres"));
    assertEquals(expected, names);
    assertTrue(j.get("journal").asBoolean());
    assertEquals(2000, j.get("journal_rows").asLong());
    assertEquals(500.0, j.get("journal_rows_per_s").asDouble());
    assertEquals(0.25, j.get("journal_catch_up_s").asDouble());
    assertEquals("embedded", j.get("postgres").asText());
  }

  @Test
  void openLoopLineHasARateAndNoInflight() throws Exception {
    RoundTripOptions o = RoundTripOptions.builder().mode(Mode.OPEN).rate(5000).via(Via.HTTP).build();
    RoundTripResult r = new RoundTripResult(o, 1000, phase(3), BEFORE, AFTER, 256, 256, false);
    JsonNode j = Json.readTree(r.jsonLine());
    assertEquals("open", j.get("mode").asText());
    assertTrue(j.get("inflight").isNull());
    assertEquals(5000.0, j.get("rate").asDouble());
    assertEquals("http", j.get("via").asText());
    assertEquals("external", j.get("redis").asText());
    assertEquals(3, j.get("lost").asLong());
    assertEquals(1, r.exitCode(), "lost requests: exit status 1");
  }

  @Test
  void theWarmupsRequestsAndAnUnknownCompileTime() throws Exception {
    RoundTripOptions o = RoundTripOptions.builder().build();
    ResourceSnapshot unknown = new ResourceSnapshot(3_555_000_000L, 11.25, 22, 160);
    RoundTripResult r = new RoundTripResult(o, 1000, phase(0), BEFORE, unknown, 256, 256, false, null, null, 123_456);
    JsonNode j = Json.readTree(r.jsonLine());
    assertEquals(123_456, j.get("warmup_requests").asLong());
    assertEquals(-1, j.get("jit_compile_ms").asLong(), "a JVM that does not time its compilers: -1");
  }

  @Test
  void rssComesFromVmRssInKilobytes() {
    assertEquals(176, ResourceSnapshot.rssMb(List.of("Name:\tjava", "VmPeak:\t 999999 kB", "VmRSS:\t  181234 kB")));
    assertEquals(-1, ResourceSnapshot.rssMb(List.of("Name:\tjava")));
    long now = ResourceSnapshot.currentRssMb();
    assertTrue(now > 0 || now == -1, "RSS " + now);
  }
}
