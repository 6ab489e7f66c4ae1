package io.sgstreams.bench.roundtrip;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.json.Json;
import org.HdrHistogram.Histogram;

/**
 * The outcome of a round-trip run and its one JSON line ({@link #jsonLine()}), which
 * {@code bench/run-all.sh} and other tooling read: the field names, their order and their units
 * are a contract (bench/README.md, "How to read the JSON line").
 *
 * @param options what was run
 * @param messages requests in the measured phase
 * @param measured what the measured phase counted
 * @param before resources at the start of the measured phase
 * @param after resources at its end
 * @param workerConcurrency entries in flight per worker consumer (SG_WORKER_CONCURRENCY, 256 unless set)
 * @param readCount XREADGROUP COUNT of the workers (SG_READ_COUNT, 256 unless set)
 * @param embeddedRedis whether the run started its own embedded Redis
 * @param journal the journal's figures with {@code --journal}, else null
 * @param shards partitions, cluster or not, XADD calls per master in the measured phase; null when unknown
 * @param warmupRequests requests the warm-up took: {@code --warmup} and what {@code --jit-settle} added
 */
public record RoundTripResult(RoundTripOptions options, int messages, PhaseResult measured, ResourceSnapshot before,
    ResourceSnapshot after, int workerConcurrency, int readCount, boolean embeddedRedis, JournalFigures journal,
    Shards shards, long warmupRequests) {

  public RoundTripResult(RoundTripOptions options, int messages, PhaseResult measured, ResourceSnapshot before,
      ResourceSnapshot after, int workerConcurrency, int readCount, boolean embeddedRedis, JournalFigures journal,
      Shards shards) {
    this(options, messages, measured, before, after, workerConcurrency, readCount, embeddedRedis, journal, shards,
        options.warmup());
  }

  public RoundTripResult(RoundTripOptions options, int messages, PhaseResult measured, ResourceSnapshot before,
      ResourceSnapshot after, int workerConcurrency, int readCount, boolean embeddedRedis) {
    this(options, messages, measured, before, after, workerConcurrency, readCount, embeddedRedis, null, null);
  }

  public RoundTripResult(RoundTripOptions options, int messages, PhaseResult measured, ResourceSnapshot before,
      ResourceSnapshot after, int workerConcurrency, int readCount, boolean embeddedRedis, JournalFigures journal) {
    this(options, messages, measured, before, after, workerConcurrency, readCount, embeddedRedis, journal, null);
  }

  /** {@code SG_PARTITIONS}, whether Redis is a cluster, and each master's XADD calls in the measured phase. */
  public record Shards(int partitions, boolean cluster, java.util.Map<String, Long> xaddPerShard) {
    /** Largest relative distance of a shard's XADD calls from their mean (0.2 = 20 %). */
    public double xaddSpread() {
      double mean = xaddPerShard.values().stream().mapToLong(Long::longValue).average().orElse(0);
      return mean == 0 ? 0 : xaddPerShard.values().stream().mapToDouble(n -> Math.abs(n - mean) / mean).max().orElse(0);
    }
  }

  /**
   * What the journal did in the measured phase: rows committed from its start until the journal's
   * group had caught up with every stream ({@code rows} in {@code seconds}, of which {@code
   * catchUpSeconds} after the last reply), and where PostgreSQL was.
   */
  public record JournalFigures(long rows, double seconds, double catchUpSeconds, boolean embeddedPostgres) {
    public double rowsPerSecond() {
      return seconds <= 0 ? 0 : rows / seconds;
    }
  }

  public long lost() {
    return measured.lost();
  }

  public long duplicates() {
    return measured.duplicates();
  }

  /** {@code sg bench}'s exit status: 0, or 1 when requests were lost. */
  public int exitCode() {
    return lost() == 0 ? 0 : 1;
  }

  /** One line of JSON, no line break: the fields in bench/README.md's order. */
  public String jsonLine() {
    ObjectNode line = Json.object();
    line.put("impl", "sg");
    line.put("mode", options.mode().wire());
    line.put("messages", messages);
    line.put("seconds", round(measured.seconds(), 3));
    line.put("throughput_msgs_per_s", round(measured.received() / measured.seconds(), 1));
    Histogram h = measured.latencyMicros();
    line.put("p50_ms", ms(h.getValueAtPercentile(50)));
    line.put("p99_ms", ms(h.getValueAtPercentile(99)));
    line.put("p999_ms", ms(h.getValueAtPercentile(99.9)));
    line.put("max_ms", ms(h.getMaxValue()));
    line.put("lost", measured.lost());
    line.put("duplicates", measured.duplicates());
    line.put("errors", measured.errors());
    line.put("workers", options.workers());
    line.put("payload_bytes", options.payloadBytes());
    if (options.open()) {
      line.putNull("inflight");
      line.put("rate", options.rate());
    } else {
      line.put("inflight", options.inflight());
      line.putNull("rate");
    }
    line.put("via", options.via().wire());
    line.put("client_cpu_s", round(after.processCpuSecondsSince(before), 2));
    line.put("redis_cpu_s", round(after.redisCpuSecondsSince(before), 2));
    line.put("heap_after_gc_start_mb", before.heapAfterGcMb());
    line.put("heap_after_gc_end_mb", after.heapAfterGcMb());
    line.put("rss_start_mb", before.rssMb());
    line.put("rss_end_mb", after.rssMb());
    line.put("worker_concurrency", workerConcurrency);
    line.put("read_count", readCount);
    line.put("redis", embeddedRedis ? "embedded" : "external");
    line.put("journal", journal != null);
    line.put("warmup_requests", warmupRequests);
    line.put("jit_compile_ms", after.compileMillisSince(before));
    if (shards != null) {
      line.put("partitions", shards.partitions());
      line.put("shards", shards.xaddPerShard().size());
      line.put("cluster", shards.cluster());
      ObjectNode per = line.putObject("xadd_per_shard");
      shards.xaddPerShard().forEach(per::put);
      line.put("xadd_spread", round(shards.xaddSpread(), 3));
    }
    if (journal != null) {
      line.put("journal_rows", journal.rows());
      line.put("journal_rows_per_s", round(journal.rowsPerSecond(), 1));
      line.put("journal_catch_up_s", round(journal.catchUpSeconds(), 3));
      line.put("postgres", journal.embeddedPostgres() ? "embedded" : "external");
    }
    return Json.write(line);
  }

  private static double ms(long micros) {
    return round(micros / 1000.0, 3);
  }

  private static double round(double v, int places) {
    double f = Math.pow(10, places);
    return Math.round(v * f) / f;
  }
}
