package io.sgstreams.launcher;

import io.sgstreams.bench.roundtrip.RoundTripBenchmark;
import io.sgstreams.bench.roundtrip.RoundTripOptions;
import io.sgstreams.bench.roundtrip.RoundTripResult;
import java.io.PrintStream;
import java.util.Map;

/**
 * {@code sg bench}: turns the flags picocli parsed ({@link BenchCli}, which also holds the help
 * text) into {@link RoundTripOptions}, runs the bench module's {@link RoundTripBenchmark} and
 * prints its JSON line on stdout (progress on stderr).
 */
final class BenchCommand {
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
          .jitSettleSeconds(wholeSeconds(cli, "jit-settle", RoundTripOptions.DEFAULT_JIT_SETTLE_SECONDS))
          .via(RoundTripOptions.Via.parse(cli.option("via", "stream")))
          .redisUrl(cli.option("redis", env.get("REDIS_URL")))
          .journal(Boolean.parseBoolean(cli.option("journal", "false")))
          .build();
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException(e.getMessage());
    }
  }

  private static int wholeSeconds(Cli cli, String name, int dflt) {
    return whole(cli, name, dflt, 0, "a whole number of seconds, 0 or more");
  }

  private static int positive(Cli cli, String name, int dflt) {
    return whole(cli, name, dflt, 1, "a positive whole number");
  }

  /** The flag's value as a whole number from {@code min} up; else a usage error saying it must be {@code what}. */
  private static int whole(Cli cli, String name, int dflt, int min, String what) {
    double v = cli.number(name, dflt);
    if (v < min || v != Math.floor(v) || v > Integer.MAX_VALUE) {
      throw new Cli.UsageException("--" + name + " must be " + what);
    }
    return (int) v;
  }
}
