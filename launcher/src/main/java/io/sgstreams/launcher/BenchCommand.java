package io.sgstreams.launcher;

import io.sgstreams.bench.roundtrip.RoundTripBenchmark;
import io.sgstreams.bench.roundtrip.RoundTripOptions;
import io.sgstreams.bench.roundtrip.RoundTripResult;
import java.io.PrintStream;
import java.util.Map;

/**
 * {@code sg bench}: parses the command line into {@link RoundTripOptions}, runs the bench
 * module's {@link RoundTripBenchmark} and prints its JSON line on stdout (progress on stderr).
 */
final class BenchCommand {
  static final String HELP = """
      usage: sg bench [--messages N] [--workers W] [--payload-bytes B] [--mode closed|open]
                      [--inflight K] [--rate R] [--duration S] [--warmup M] [--via stream|http]
                      [--redis URL]

      Round-trip benchmark: publisher -> inbound stream -> W echo workers -> outbound stream ->
      reply matched by correlation_id. Streams live under the prefix 'sg-bench' (deleted and
      recreated before each run), never a deployment's.
        --messages N       measured requests (default 200000)
        --workers W        worker nodes, each its own consumer in the group (default 4)
        --payload-bytes B  size of each request's content (default 256)
        --mode closed      at most --inflight K outstanding, a new request per reply (default, K=1000)
        --mode open        --rate R requests per second on a fixed schedule; latency from each
                           request's intended send time (no coordinated omission)
        --duration S       open loop for S seconds instead of N messages
        --warmup M         requests run first and not counted (default 100000)
        --via stream|http  publish with the core bus (default) or POST /v1/messages?wait= to a gateway
        --redis URL        default $REDIS_URL, else an embedded Redis 7.0 without persistence
      Worker consumer settings come from streams.yaml / SG_* (SG_WORKER_CONCURRENCY, SG_READ_COUNT, ...).
      Output: one JSON line: impl, mode, messages, seconds, throughput_msgs_per_s, p50_ms, p99_ms,
      p999_ms, max_ms, lost, duplicates, workers, payload_bytes, inflight, rate, via, client_cpu_s,
      redis_cpu_s, heap/RSS at start and end.
      """;

  private BenchCommand() {}

  static int run(Cli cli, Map<String, String> env, PrintStream out, PrintStream err) throws Exception {
    RoundTripResult r = RoundTripBenchmark.run(options(cli, env), env, err);
    out.println(r.jsonLine());
    out.flush();
    return r.exitCode();
  }

  static RoundTripOptions options(Cli cli, Map<String, String> env) {
    try {
      RoundTripOptions.Builder b = RoundTripOptions.builder()
          .messages(positive(cli, "messages", RoundTripOptions.DEFAULT_MESSAGES))
          .workers(positive(cli, "workers", RoundTripOptions.DEFAULT_WORKERS))
          .payloadBytes((int) cli.number("payload-bytes", RoundTripOptions.DEFAULT_PAYLOAD_BYTES))
          .mode(RoundTripOptions.Mode.parse(cli.option("mode", "closed")))
          .inflight(positive(cli, "inflight", RoundTripOptions.DEFAULT_INFLIGHT))
          .rate(cli.number("rate", RoundTripOptions.DEFAULT_RATE));
      if (cli.options().containsKey("duration")) {
        b.durationSeconds(positive(cli, "duration", 0));
      }
      return b.warmup((int) cli.number("warmup", RoundTripOptions.DEFAULT_WARMUP))
          .via(RoundTripOptions.Via.parse(cli.option("via", "stream")))
          .redisUrl(cli.option("redis", env.get("REDIS_URL")))
          .build();
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException(e.getMessage());
    }
  }

  private static int positive(Cli cli, String name, int dflt) {
    double v = cli.number(name, dflt);
    if (v <= 0 || v != Math.floor(v) || v > Integer.MAX_VALUE) {
      throw new Cli.UsageException("--" + name + " must be a positive whole number");
    }
    return (int) v;
  }
}
