package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.ops.StreamsReport;
import io.sgstreams.core.topology.Role;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code sg streams}: the monitoring API's picture ({@link StreamsReport}, what {@code GET /v1/streams}
 * serves) read straight from Redis, as a table or JSON, refreshed with {@code --watch}.
 */
@Command(name = "streams", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Every configured stream (inbound, outbound per platform, tools, tools reply streams in use, DLQ): "
        + "length, cap, backlog headroom, and per group its consumers (alive by heartbeat), pending, lag (? when "
        + "Redis cannot tell), oldest pending age and delivery counts. Needs REDIS_URL."},
    footer = {"", "Exit status: 0 done, 2 usage or configuration error, 5 Redis unreachable."})
final class StreamsCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Option(names = "--json", description = "one JSON object per refresh, as GET /v1/streams")
  boolean json;

  @Option(names = "--watch", paramLabel = "SECONDS", arity = "0..1", fallbackValue = "2",
      description = "refresh every SECONDS (default 2) until interrupted")
  Double watch;

  @Option(names = "--partitions", description = "with partitions (SG_PARTITIONS > 1): every partition's rows too, not "
      + "only each logical stream's totals (JSON always has both)")
  boolean partitions;

  private final Sg.Context ctx;

  StreamsCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() throws InterruptedException {
    if (watch != null && !(watch >= 0.2 && watch <= 3600)) {
      throw new Cli.UsageException("--watch must be from 0.2 to 3600 seconds, got " + watch);
    }
    SgConfig config = ConfigLoader.read(ctx.env()).config();
    if (config.redisUrl().isEmpty()) {
      throw new ConfigException(ConfigSchema.Redis.URL.env(), null, "required for 'sg streams': the streams live in Redis");
    }
    RedisEventBus bus;
    try {
      bus = RedisEventBus.connect(Role.GATEWAY, config, new SimpleMeterRegistry());
    } catch (RuntimeException e) {
      throw new Cli.FailedException(OpsSession.REDIS_UNREACHABLE, "Redis is unreachable (REDIS_URL): " + OpsSession.message(e));
    }
    try (bus) {
      StreamsReport report = new StreamsReport(bus);
      PrintStream out = ctx.out();
      do {
        ObjectNode all;
        try {
          all = report.all().block(OpsSession.TIMEOUT);
        } catch (RuntimeException e) {
          throw new Cli.FailedException(OpsSession.REDIS_UNREACHABLE, "cannot read the streams from Redis: " + OpsSession.message(e));
        }
        if (json) {
          out.println(Json.write(all));
        } else {
          if (watch != null) {
            out.print("\033[H\033[2J"); // clear the terminal between refreshes
          }
          table(all, out, partitions);
        }
        out.flush();
        if (watch != null) {
          Thread.sleep((long) (watch * 1000));
        }
      } while (watch != null);
    }
    return 0;
  }

  static void table(JsonNode all, PrintStream out) {
    table(all, out, false);
  }

  /**
   * The table: with partitions ({@code "totals"} in the report) first each logical stream's totals, then the rows
   * of the streams without partitions (tools, tool replies) and, with {@code partitionRows}, every partition's.
   */
  static void table(JsonNode all, PrintStream out, boolean partitionRows) {
    JsonNode totals = all.path("totals");
    java.util.List<JsonNode> rows = new java.util.ArrayList<>();
    for (JsonNode s : all.get("streams")) {
      if (!totals.isArray() || partitionRows || !s.path("partition").isNumber()) {
        rows.add(s);
      }
    }
    if (totals.isArray()) {
      totalsTable(totals, out);
      out.println();
      JsonNode shards = all.path("shards");
      if (shards.isArray() && shards.size() > 1) {
        StringBuilder b = new StringBuilder("XADD calls per shard:");
        shards.forEach(x -> b.append(' ').append(x.path("shard").asText()).append('=').append(x.path("xadd_calls").asLong()));
        out.println(b);
        out.println();
      }
    }
    out.printf("%-44s %-11s %9s %9s %9s%n", "STREAM", "KIND", "LENGTH", "CAP", "HEADROOM");
    for (JsonNode s : rows) {
      out.printf("%-44s %-11s %9s %9d %9s%n", s.get("name").asText(), s.get("kind").asText(),
          s.get("exists").asBoolean() ? s.get("length").asText() : "-", s.get("cap").asLong(),
          s.get("headroom").isNull() ? "-" : s.get("headroom").asText());
    }
    out.println();
    out.printf("%-44s %-20s %-8s %8s %8s %10s %s%n", "STREAM", "GROUP", "ROLE", "PENDING", "LAG", "OLDEST(s)", "CONSUMERS (pending, idle, alive)");
    for (JsonNode s : rows) {
      for (JsonNode g : s.get("groups")) {
        StringBuilder cs = new StringBuilder();
        for (JsonNode c : g.get("consumers")) {
          if (cs.length() > 0) {
            cs.append(", ");
          }
          cs.append(c.get("name").asText()).append(" (").append(c.get("pending").asLong()).append(", ")
              .append(c.get("idle_ms").asLong() / 1000).append("s, ").append(c.get("alive").asBoolean() ? "alive" : "DEAD")
              .append(')');
        }
        out.printf("%-44s %-20s %-8s %8d %8s %10s %s%n", s.get("name").asText(), g.get("name").asText(),
            g.get("role").asText(), g.get("pending").asLong(),
            g.get("lag_known").asBoolean() ? g.get("lag").asText() : "?",
            g.get("oldest_pending_seconds").isNull() ? "-" : String.format("%.1f", g.get("oldest_pending_seconds").asDouble()),
            cs.length() == 0 ? "(none)" : cs);
      }
    }
  }

  /** Each logical stream's totals over its partitions, and per group; lag {@code ?} when any partition's is unknown. */
  static void totalsTable(JsonNode totals, PrintStream out) {
    out.printf("%-36s %-20s %10s %9s %9s %12s%n", "LOGICAL STREAM", "KIND", "PARTITIONS", "LENGTH", "BACKLOG", "MIN HEADROOM");
    for (JsonNode t : totals) {
      out.printf("%-36s %-20s %10s %9d %9s %12s%n", t.get("name").asText(), t.get("kind").asText(),
          t.get("partitions_existing").asInt() + "/" + t.get("partitions").asInt(), t.get("length").asLong(),
          t.get("backlog").isNull() ? "-" : t.get("backlog").asText(),
          t.get("min_headroom").isNull() ? "-" : t.get("min_headroom").asText());
    }
    out.println();
    out.printf("%-36s %-20s %-8s %10s %8s %8s %10s %9s%n", "LOGICAL STREAM", "GROUP", "ROLE", "PARTITIONS", "PENDING", "LAG",
        "OLDEST(s)", "CONSUMERS");
    for (JsonNode t : totals) {
      for (JsonNode g : t.get("groups")) {
        out.printf("%-36s %-20s %-8s %10d %8d %8s %10s %9d%n", t.get("name").asText(), g.get("name").asText(),
            g.get("role").asText(), g.get("partitions").asInt(), g.get("pending").asLong(),
            g.get("lag_known").asBoolean() ? g.get("lag").asText() : "?",
            g.get("oldest_pending_seconds").isNull() ? "-" : String.format("%.1f", g.get("oldest_pending_seconds").asDouble()),
            g.get("consumers").asInt());
      }
    }
  }
}
