package io.sgstreams.launcher;

import io.sgstreams.core.config.ConfigException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sg bench}'s command line: picocli parses the options, {@link BenchCommand} (unchanged)
 * reads them as {@link Cli} and checks their values.
 */
@Command(name = "bench", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Round-trip benchmark; prints one JSON line.",
        "Publisher -> inbound stream -> W echo workers -> outbound stream -> reply matched by correlation_id. Streams "
            + "live under the prefix 'sg-bench' (deleted and recreated before each run), never a deployment's. Worker "
            + "consumer settings come from SG_* (SG_WORKER_CONCURRENCY, SG_READ_COUNT, ...)."},
    footer = {"", "Output: one JSON line: impl, mode, messages, seconds, throughput_msgs_per_s, p50_ms, p99_ms, p999_ms, "
        + "max_ms, lost, duplicates, workers, payload_bytes, inflight, rate, via, client_cpu_s, redis_cpu_s, heap/RSS "
        + "at start and end; with --journal: journal_rows, journal_rows_per_s, journal_catch_up_s. Progress on stderr."})
final class BenchCli implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Option(names = "--messages", paramLabel = "N", description = "measured requests (default 200000)")
  String messages;

  @Option(names = "--workers", paramLabel = "W", description = "worker nodes, each its own consumer in the group (default 4)")
  String workers;

  @Option(names = "--payload-bytes", paramLabel = "B", description = "size of each request's content (default 256)")
  String payloadBytes;

  @Option(names = "--mode", paramLabel = "closed|open", completionCandidates = Modes.class, description = {
      "closed: at most --inflight K outstanding, a new request per reply (default, K=1000)",
      "open: --rate R requests per second on a fixed schedule; latency from each request's intended send time"})
  String mode;

  @Option(names = "--inflight", paramLabel = "K", description = "outstanding requests in closed loop (default 1000)")
  String inflight;

  @Option(names = "--rate", paramLabel = "R", description = "requests per second in open loop (default 5000)")
  String rate;

  @Option(names = "--duration", paramLabel = "S", description = "open loop for S seconds instead of N messages")
  String duration;

  @Option(names = "--warmup", paramLabel = "M", description = "requests run first and not counted (default 100000)")
  String warmup;

  @Option(names = "--jit-settle", paramLabel = "S", description = "after the warmup, keep warming up in ~1 s steps until "
      + "the JIT compilers were quiet for one (under 5 %% of a core), for at most S seconds (default 30; 0: off; none "
      + "after --warmup 0)")
  String jitSettle;

  @Option(names = "--via", paramLabel = "stream|http", completionCandidates = Vias.class,
      description = "publish with the core bus (default) or POST /v1/messages?wait= to a gateway")
  String via;

  @Option(names = "--redis", paramLabel = "URL", description = "default $REDIS_URL, else an embedded Redis 7.0 without persistence")
  String redis;

  @Option(names = "--journal", description = "run the journal too (every envelope into PostgreSQL: $POSTGRES_URL, else an "
      + "embedded PostgreSQL) and report its rows/s")
  boolean journal;

  static final class Modes extends java.util.ArrayList<String> {
    Modes() {
      super(List.of("closed", "open"));
    }
  }

  static final class Vias extends java.util.ArrayList<String> {
    Vias() {
      super(List.of("stream", "http"));
    }
  }

  private final Sg.Context ctx;

  BenchCli(Sg.Context ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    Map<String, String> given = new LinkedHashMap<>();
    put(given, "messages", messages);
    put(given, "workers", workers);
    put(given, "payload-bytes", payloadBytes);
    put(given, "mode", mode);
    put(given, "inflight", inflight);
    put(given, "rate", rate);
    put(given, "duration", duration);
    put(given, "warmup", warmup);
    put(given, "jit-settle", jitSettle);
    put(given, "via", via);
    put(given, "redis", redis);
    if (journal) {
      given.put("journal", "true");
    }
    try {
      return BenchCommand.run(new Cli(List.of(), given), ctx.env(), ctx.out(), ctx.err());
    } catch (Cli.UsageException | ConfigException e) {
      throw e;
    } catch (Exception e) {
      ctx.err().printf("sg bench: failed: %s%n", e);
      return 1;
    }
  }

  private static void put(Map<String, String> m, String name, String value) {
    if (value != null) {
      m.put(name, value);
    }
  }
}
