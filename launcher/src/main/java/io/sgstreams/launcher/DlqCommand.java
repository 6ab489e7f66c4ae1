package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.BacklogFullException;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.consume.DeadLetterQueue;
import io.sgstreams.core.consume.DeadLetterQueue.AlreadyReplayed;
import io.sgstreams.core.consume.DeadLetterQueue.DeadLetter;
import io.sgstreams.core.consume.DeadLetterQueue.NotFound;
import io.sgstreams.core.consume.DeadLetterQueue.NothingToReplay;
import io.sgstreams.core.consume.DeadLetterQueue.Order;
import io.sgstreams.core.consume.DeadLetterQueue.ReplayOutcome;
import io.sgstreams.core.consume.DeadLetterQueue.ReplayRecord;
import io.sgstreams.core.consume.DeadLetterQueue.Replayed;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.json.Json;
import io.sgstreams.journal.DeadLetterRow;
import io.sgstreams.journal.JournalStore;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sg dlq list | show | replay | purge}: the dead letters of the DLQ stream for an operator,
 * through core's {@link DeadLetterQueue} (so a replay takes the same Redis guard whoever runs it), and
 * through the journal when {@code POSTGRES_URL} is set: listings add the journaled dead letters no
 * longer in the stream (trimmed by its cap), replays and purges are recorded in {@code sg_dead_letters}
 * (who replayed, when, the new entry; when purged), and a dead letter the journal knows was replayed is
 * not replayed again even after its Redis guard expired.
 */
@Command(name = "dlq", usageHelpAutoWidth = true,
    description = {"Lists, shows, replays and purges dead letters (the DLQ stream, streams.dlq / SG_DLQ_STREAM).",
        "Needs REDIS_URL; with POSTGRES_URL the journal's record of every dead letter is used and updated too."},
    footer = {"", "Exit status: 0 done, 1 a replay or purge failed (e.g. the target stream's backlog is full), 2 usage or "
        + "configuration error, 3 no such dead letter, 5 Redis unreachable, 6 PostgreSQL unreachable."})
final class DlqCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Spec
  CommandSpec spec;

  private final Sg.Context ctx;

  DlqCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  static CommandLine commandLine(Sg.Context ctx) {
    CommandLine dlq = new CommandLine(new DlqCommand(ctx));
    dlq.addSubcommand("list", new ListDeadLetters(ctx));
    dlq.addSubcommand("show", new Show(ctx));
    dlq.addSubcommand("replay", new Replay(ctx));
    dlq.addSubcommand("purge", new Purge(ctx));
    return dlq;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(ctx.err());
    return 2;
  }

  private static final Duration TIMEOUT = OpsSession.TIMEOUT;
  private static final Pattern DURATION = Pattern.compile("(\\d+)([smhdw])");

  // ---------------------------------------------------------------- what is shown

  /** A dead letter as listed: from the stream, the journal or both, with what became of it. */
  record Item(String id, String originalStream, String originalId, String error, Long deliveries, Instant deadAt,
      boolean inStream, Optional<ReplayInfo> replay) {}

  /** A replay as recorded (the Redis guard, else the journal). */
  record ReplayInfo(String by, Instant at, boolean done, String newEntryId) {}

  static Optional<ReplayInfo> replay(ReplayRecord r) {
    return Optional.ofNullable(r).map(x -> new ReplayInfo(x.by(), x.at(), x.done(), x.newEntryId().orElse(null)));
  }

  static Optional<ReplayInfo> replay(DeadLetterRow r) {
    if (r == null || r.replayedBy() == null) {
      return Optional.empty();
    }
    return Optional.of(new ReplayInfo(r.replayedBy(), r.replayedAt(), r.replayedAt() != null, r.replayEntryId()));
  }

  static String describe(ReplayInfo r) {
    return r.done()
        ? "by " + r.by() + (r.at() == null ? "" : " at " + time(r.at())) + (r.newEntryId() == null ? "" : " as " + r.newEntryId())
        : "being replayed by " + r.by() + (r.at() == null ? "" : " since " + time(r.at())) + " (unfinished)";
  }

  static ObjectNode json(ReplayInfo r) {
    ObjectNode n = Json.object();
    n.put("by", r.by());
    n.put("at", r.at() == null ? null : r.at().toString());
    n.put("done", r.done());
    n.put("entry_id", r.newEntryId());
    return n;
  }

  static String time(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  /** {@code 45s}, {@code 12m}, {@code 3h}, {@code 2d}. */
  static String age(Instant t, Instant now) {
    long s = Math.max(0, Duration.between(t, now).getSeconds());
    if (s < 120) {
      return s + "s";
    }
    if (s < 7200) {
      return (s / 60) + "m";
    }
    if (s < 172_800) {
      return (s / 3600) + "h";
    }
    return (s / 86_400) + "d";
  }

  static String oneLine(String s, int max) {
    String t = s == null ? "" : s.replaceAll("\\s+", " ").strip();
    return t.length() > max ? t.substring(0, max - 1) + "…" : t;
  }

  /**
   * A time as an operator writes it: an ISO-8601 instant ({@code 2024-05-01T12:00:00Z}) or how long ago
   * ({@code 90s}, {@code 30m}, {@code 12h}, {@code 7d}, {@code 2w}).
   */
  static Instant parseTime(String text, Instant now, String option) {
    String t = text.strip();
    Matcher m = DURATION.matcher(t);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      Duration d = switch (m.group(2)) {
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        case "d" -> Duration.ofDays(n);
        default -> Duration.ofDays(7 * n);
      };
      return now.minus(d);
    }
    try {
      return Instant.parse(t);
    } catch (DateTimeParseException e) {
      throw new Cli.UsageException(option + " must be an ISO-8601 instant (2024-05-01T12:00:00Z) or a duration ago "
          + "(90s, 30m, 12h, 7d, 2w); got '" + text + "'");
    }
  }

  static void requireIds(List<String> ids) {
    for (String id : ids) {
      if (!DeadLetterQueue.validRef(id)) {
        throw new Cli.UsageException("'" + id + "' is not a dead letter id: ids are DLQ entry ids like 1718000000000-0, "
            + "with partitions P/ID like 3/1718000000000-0 ('sg dlq list' shows them)");
      }
    }
  }

  /** Where a dead letter's journal row is: its DLQ partition stream and entry id. */
  record Loc(String stream, String id) {}

  /** The dead letter {@code ref} from Redis, or null; an ambiguous bare id (partitions) or a bad partition is a usage error. */
  static DeadLetter get(DeadLetterQueue dlq, String ref) {
    try {
      return dlq.get(ref).block(TIMEOUT);
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException(e.getMessage());
    }
  }

  /** Where {@code ref}'s journal row is: {@code d}'s partition, else the partition the reference names. */
  static Loc loc(DeadLetterQueue dlq, String ref, DeadLetter d) {
    if (d != null) {
      return new Loc(d.dlqStream(), d.id());
    }
    DeadLetterQueue.Ref r;
    try {
      r = dlq.parseRef(ref);
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException(e.getMessage());
    }
    if (!r.located()) {
      DeadLetter found = get(dlq, ref);
      if (found != null) {
        return new Loc(found.dlqStream(), found.id());
      }
    }
    return new Loc(dlq.streamOf(r), r.id());
  }

  /** Who replays: {@code --by}, else {@code user@host} of this process. */
  static String who(Sg.Context ctx, String by) {
    if (by != null && !by.isBlank()) {
      return by.strip();
    }
    String user = ctx.env().getOrDefault("USER", ctx.env().getOrDefault("USERNAME", "unknown"));
    String host = ctx.env().get("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (Exception e) {
        host = "unknown";
      }
    }
    return user + "@" + host;
  }

  /** The dead letters a listing shows: the stream's, plus the journal's no longer in it; newest (or oldest) first. */
  static List<Item> items(OpsSession s, String stream, String error, int limit, boolean oldestFirst) {
    DeadLetterQueue dlq = s.bus().deadLetterQueue();
    List<DeadLetter> inStream = dlq.list(oldestFirst ? Order.OLDEST_FIRST : Order.NEWEST_FIRST, stream, error, limit)
        .collectList().block(TIMEOUT);
    Map<String, Item> byId = new LinkedHashMap<>();
    for (DeadLetter d : inStream) {
      Optional<ReplayInfo> r = replay(dlq.replayRecord(d.ref()).block(TIMEOUT));
      byId.put(d.ref(), new Item(d.ref(), d.originalStream(), d.originalId(), d.error(), d.deliveries(), d.deadAt(), true, r));
    }
    boolean partitioned = dlq.streams().size() > 1;
    s.journal().ifPresent(j -> {
      for (int p = 0; p < dlq.streams().size(); p++) {
        String dlqStream = dlq.streams().get(p);
        String prefix = partitioned ? p + "/" : "";
        // the journal's first `limit` from the same end: with the stream's, they hold the first `limit` of the union
        List<DeadLetterRow> rows = s.journalCall(() -> j.deadLetters(dlqStream, stream, error, false, limit, oldestFirst)
            .collectList().block(TIMEOUT));
        for (DeadLetterRow row : rows) {
          String ref = prefix + row.entryId();
          Item known = byId.get(ref);
          if (known != null) {
            if (known.replay().isEmpty() && replay(row).isPresent()) {
              byId.put(ref, new Item(known.id(), known.originalStream(), known.originalId(), known.error(),
                  known.deliveries(), known.deadAt(), true, replay(row)));
            }
          } else {
            byId.put(ref, new Item(ref, row.originalStream(), row.originalId(), row.error(), row.deliveries(),
                row.deadAt() == null ? Instant.ofEpochMilli(row.entryMs()) : Instant.ofEpochMilli(row.deadAt()), false,
                replay(row)));
          }
        }
      }
    });
    Comparator<Item> order = (a, b) -> {
      int c = EntryIds.compare(DeadLetterQueue.entryIdOf(a.id()), DeadLetterQueue.entryIdOf(b.id()));
      return c != 0 ? c : a.id().compareTo(b.id());
    };
    return byId.values().stream().sorted(oldestFirst ? order : order.reversed()).limit(limit).toList();
  }

  // ---------------------------------------------------------------- list

  @Command(name = "list", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Lists dead letters, newest first: DLQ id, original stream and id, error, deliveries, age, replayed.",
          "With POSTGRES_URL, the journaled dead letters no longer in the stream (trimmed) are listed too, marked "
              + "'journal only'; purged ones are not."})
  static final class ListDeadLetters implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--stream", paramLabel = "S", description = "only dead letters of this original stream")
    String stream;

    @Option(names = "--error", paramLabel = "E", description = "only dead letters whose error starts with E")
    String error;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "at most N (default ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--oldest", description = "oldest first")
    boolean oldest;

    @Option(names = "--json", description = "one JSON object: dead_letters [{id, original_stream, original_id, error, "
        + "deliveries, dead_at, in_stream, replayed {by, at, done, entry_id} or null}]")
    boolean json;

    private final Sg.Context ctx;

    ListDeadLetters(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (limit < 1) {
        throw new Cli.UsageException("--limit must be at least 1, got " + limit);
      }
      try (OpsSession s = OpsSession.open(ctx, "sg dlq list", true, false)) {
        List<Item> items = items(s, stream, error, limit, oldest);
        PrintStream out = ctx.out();
        Instant now = Instant.now();
        if (json) {
          ObjectNode root = Json.object();
          root.put("dlq_stream", s.bus().deadLetterQueue().stream());
          if (s.bus().deadLetterQueue().streams().size() > 1) {
            ArrayNode parts = root.putArray("dlq_streams"); // with partitions: every DLQ partition, ids are P/ID
            s.bus().deadLetterQueue().streams().forEach(parts::add);
          }
          root.put("journal", s.journal().isPresent());
          ArrayNode arr = root.putArray("dead_letters");
          for (Item i : items) {
            ObjectNode n = arr.addObject();
            n.put("id", i.id());
            n.put("original_stream", i.originalStream());
            n.put("original_id", i.originalId());
            n.put("error", i.error());
            n.put("deliveries", i.deliveries());
            n.put("dead_at", i.deadAt().toString());
            n.put("in_stream", i.inStream());
            n.set("replayed", i.replay().map(DlqCommand::json).orElse(null));
          }
          out.println(Json.write(root));
        } else if (items.isEmpty()) {
          out.println("no dead letters" + (stream != null || error != null ? " match" : "") + " in "
              + s.bus().deadLetterQueue().stream() + (s.journal().isPresent() ? " or the journal" : ""));
        } else {
          int id = "DLQ ID".length();
          int st = "STREAM".length();
          int oid = "ORIGINAL ID".length();
          for (Item i : items) {
            id = Math.max(id, i.id().length());
            st = Math.max(st, i.originalStream().length());
            oid = Math.max(oid, i.originalId().length());
          }
          String format = "%-" + id + "s  %-" + st + "s  %-" + oid + "s  %-50s  %10s  %5s  %s%n";
          out.printf(format, "DLQ ID", "STREAM", "ORIGINAL ID", "ERROR", "DELIVERIES", "AGE", "REPLAYED");
          for (Item i : items) {
            String replayed = i.replay().map(DlqCommand::describe).orElse("no");
            out.printf(format, i.id(), i.originalStream(), i.originalId(), oneLine(i.error(), 50),
                i.deliveries() == null ? "-" : i.deliveries().toString(), age(i.deadAt(), now),
                replayed + (i.inStream() ? "" : " (journal only: no longer in the stream)"));
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  // ---------------------------------------------------------------- show

  @Command(name = "show", usageHelpAutoWidth = true,
      description = {"Everything about one dead letter: its fields, the original envelope decoded, and its replay."})
  static final class Show implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "ID", description = "the DLQ entry id ('sg dlq list' shows them); with partitions P/ID, or ID when one partition has it")
    String id;

    @Option(names = "--json", description = "one JSON object: the fields, envelope (decoded) or data_base64, replayed")
    boolean json;

    private final Sg.Context ctx;

    Show(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      requireIds(List.of(id));
      try (OpsSession s = OpsSession.open(ctx, "sg dlq show", true, false)) {
        DeadLetterQueue dlq = s.bus().deadLetterQueue();
        DeadLetter d = get(dlq, id);
        Loc l = loc(dlq, id, d);
        DeadLetterRow row = s.journal().map(j -> s.journalCall(() -> j.deadLetter(l.stream(), l.id()).block(TIMEOUT))).orElse(null);
        if (d == null && row == null) {
          throw new Cli.FailedException(OpsSession.NOT_FOUND, "no dead letter " + id + " in " + dlq.stream()
              + (s.journal().isPresent() ? " or the journal" : "") + " ('sg dlq list' shows them)");
        }
        Optional<ReplayInfo> replay = d == null ? Optional.empty() : replay(dlq.replayRecord(id).block(TIMEOUT));
        if (replay.isEmpty()) {
          replay = replay(row);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        byte[] data;
        if (d != null) {
          d.fields().forEach((k, v) -> {
            if (!k.equals("data")) {
              fields.put(k, new String(v, StandardCharsets.UTF_8));
            }
          });
          data = d.data();
        } else {
          fields.put("original_stream", row.originalStream());
          fields.put("original_id", row.originalId());
          fields.put("group", row.group());
          fields.put("consumer", row.consumer());
          fields.put("deliveries", row.deliveries() == null ? null : row.deliveries().toString());
          fields.put("error", row.error());
          fields.put("ts", row.deadAt() == null ? null : row.deadAt().toString());
          fields.put("trace_id", row.traceId());
          data = row.data() == null ? new byte[0] : row.data();
        }
        Envelope envelope = null;
        String undecodable = null;
        if (data.length > 0) {
          try {
            envelope = s.bus().codec().decode(data);
          } catch (RuntimeException e) {
            undecodable = e.getMessage();
          }
        }
        PrintStream out = ctx.out();
        if (json) {
          ObjectNode root = Json.object();
          root.put("id", id);
          root.put("dlq_stream", l.stream());
          root.put("in_stream", d != null);
          ObjectNode f = root.putObject("fields");
          fields.forEach(f::put);
          if (envelope != null) {
            root.set("envelope", wireKeys(Json.toTree(envelope)));
          } else {
            root.putNull("envelope");
            root.put("undecodable", undecodable);
          }
          root.put("data_base64", Base64.getEncoder().encodeToString(data));
          root.set("replayed", replay.map(DlqCommand::json).orElse(null));
          if (row != null && row.purgedAt() != null) {
            root.put("purged_at", row.purgedAt().toString());
          }
          out.println(Json.write(root));
        } else {
          out.printf("%-16s %s%n", "id", id);
          out.printf("%-16s %s%s%n", "dlq stream", l.stream(), d == null ? " (no longer there: from the journal)" : "");
          fields.forEach((k, v) -> out.printf("%-16s %s%n", k, v == null ? "-" : v));
          if (d != null) {
            out.printf("%-16s %s (%s ago)%n", "dead at", time(d.deadAt()), age(d.deadAt(), Instant.now()));
          }
          out.printf("%-16s %s%n", "replayed", replay.map(DlqCommand::describe).orElse("no"));
          if (row != null && row.purgedAt() != null) {
            out.printf("%-16s %s%n", "purged", time(row.purgedAt()));
          }
          if (envelope != null) {
            out.printf("%-16s %s (%d bytes)%n", "envelope", envelope.kind().wire(), data.length);
            out.println(wireKeys(Json.toTree(envelope)).toPrettyString());
          } else if (data.length == 0) {
            out.printf("%-16s %s%n", "envelope", "none (no data: nothing to replay)");
          } else {
            out.printf("%-16s undecodable (%s), %d bytes: %s%n", "envelope", undecodable, data.length,
                Base64.getEncoder().encodeToString(data));
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  // ---------------------------------------------------------------- replay

  @Command(name = "replay", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Re-adds dead letters to their original streams: the data unchanged, a fresh ts, the original "
          + "trace_id and replay_of = the DLQ id; one line per dead letter.",
          "Each is replayed once: a guard in Redis (kept 30 days; and the journal's record with POSTGRES_URL) refuses a "
              + "second replay, whoever runs it, unless --force. A target stream whose backlog is full refuses it."})
  static final class Replay implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "ID", arity = "0..*", description = "DLQ entry ids ('sg dlq list' shows them); with partitions P/ID, or ID when one partition has it")
    List<String> ids = new ArrayList<>();

    @Option(names = "--all", description = "every dead letter in the stream (oldest first), or those --stream / --error select")
    boolean all;

    @Option(names = "--stream", paramLabel = "S", description = "with --all: only dead letters of this original stream")
    String stream;

    @Option(names = "--error", paramLabel = "E", description = "with --all: only dead letters whose error starts with E")
    String error;

    @Option(names = "--dry-run", description = "print what would be replayed; change nothing")
    boolean dryRun;

    @Option(names = "--rate", paramLabel = "N", description = "at most N replays per second")
    Double rate;

    @Option(names = "--force", description = "replay even those replayed before")
    boolean force;

    @Option(names = "--by", paramLabel = "WHO", description = "who replays, as recorded (default: user@host)")
    String by;

    private final Sg.Context ctx;

    Replay(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (all == !ids.isEmpty()) {
        throw new Cli.UsageException(all ? "give IDs or --all, not both" : "give the dead letters' IDs, or --all");
      }
      if (!all && (stream != null || error != null)) {
        throw new Cli.UsageException("--stream and --error select dead letters for --all");
      }
      if (rate != null && !(rate > 0)) {
        throw new Cli.UsageException("--rate must be a positive number of replays per second, got " + rate);
      }
      requireIds(ids);
      String who = who(ctx, by);
      PrintStream out = ctx.out();
      try (OpsSession s = OpsSession.open(ctx, "sg dlq replay", true, false)) {
        DeadLetterQueue dlq = s.bus().deadLetterQueue();
        List<String> targets = all
            ? dlq.list(Order.OLDEST_FIRST, stream, error, Integer.MAX_VALUE).map(DeadLetter::ref).collectList().block(TIMEOUT)
            : ids;
        if (all && targets.isEmpty()) {
          out.println("no dead letters to replay");
        }
        int failed = 0;
        int notFound = 0;
        long intervalNanos = rate == null ? 0 : (long) (1e9 / rate);
        long next = System.nanoTime();
        for (String id : targets) {
          if (intervalNanos > 0) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
              try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Cli.FailedException(1, "interrupted");
              }
            }
            next = Math.max(next, System.nanoTime()) + intervalNanos;
          }
          Result r = dryRun ? dryRun(s, id) : replayOne(s, id, who);
          out.println(r.line());
          out.flush();
          if (r.status() == 1) {
            failed++;
          } else if (r.status() == OpsSession.NOT_FOUND) {
            notFound++;
          }
        }
        return failed > 0 ? 1 : notFound > 0 ? OpsSession.NOT_FOUND : 0;
      }
    }

    /** One line for the operator and its exit status (0 done or nothing to do, 1 failed, 3 not found). */
    record Result(String line, int status) {}

    private Result dryRun(OpsSession s, String id) {
      DeadLetterQueue dlq = s.bus().deadLetterQueue();
      DeadLetter d = get(dlq, id);
      if (d == null) {
        return new Result(id + "  not found in " + dlq.stream(), OpsSession.NOT_FOUND);
      }
      Loc l = loc(dlq, id, d);
      if (!d.replayable()) {
        return new Result(id + "  has no data to replay (" + d.error() + ")", 1);
      }
      Optional<ReplayInfo> done = replay(dlq.replayRecord(id).block(TIMEOUT));
      if (done.isEmpty()) {
        done = s.journal().flatMap(j -> replay(s.journalCall(() -> j.deadLetter(l.stream(), l.id()).block(TIMEOUT))));
      }
      if (done.isPresent() && !force) {
        return new Result(id + "  already replayed " + describe(done.get()) + "; would skip it (--force replays it again)", 0);
      }
      return new Result(id + "  would replay to " + d.originalStream() + " (dry run: nothing changed)", 0);
    }

    private Result replayOne(OpsSession s, String id, String who) {
      DeadLetterQueue dlq = s.bus().deadLetterQueue();
      Optional<JournalStore> journal = s.journal();
      Loc l = loc(dlq, id, null);
      boolean claimed = false;
      if (journal.isPresent() && !force) {
        JournalStore j = journal.get();
        DeadLetterRow row = s.journalCall(() -> j.deadLetter(l.stream(), l.id()).block(TIMEOUT));
        if (row == null) {
          // not journaled yet: add its row (the journal consumer's insert of it then does nothing) so it can be claimed
          DeadLetter d = get(dlq, id);
          if (d != null) {
            s.journalCall(() -> j.insertDeadLetters(List.of(DeadLetterRow.of(l.stream(), d, s.bus().codec()))).block(TIMEOUT));
          }
        }
        claimed = s.journalCall(() -> j.claimReplay(l.stream(), l.id(), who).block(TIMEOUT));
        if (!claimed) {
          DeadLetterRow now = s.journalCall(() -> j.deadLetter(l.stream(), l.id()).block(TIMEOUT));
          if (now != null && now.replayedBy() != null) {
            return new Result(id + "  already replayed " + describe(replay(now).orElseThrow()) + " (the journal's record); "
                + "nothing re-added (--force replays it again)", 0);
          }
        }
      }
      ReplayOutcome outcome;
      try {
        outcome = dlq.replay(id, who, force).block(TIMEOUT);
      } catch (IllegalArgumentException e) {
        throw new Cli.UsageException(e.getMessage());
      } catch (RuntimeException e) {
        if (claimed) {
          s.journalCall(() -> journal.get().releaseReplay(l.stream(), l.id()).block(TIMEOUT));
        }
        Throwable cause = e instanceof BacklogFullException ? e : (e.getCause() instanceof BacklogFullException b ? b : e);
        if (cause instanceof BacklogFullException full) {
          return new Result(id + "  failed: " + full.stream() + " refuses it: " + full.getMessage() + "; retry in "
              + full.retryAfter().toSeconds() + " s", 1);
        }
        return new Result(id + "  failed: " + OpsSession.message(e), 1);
      }
      boolean held = claimed;
      if (outcome instanceof Replayed r) {
        journal.ifPresent(j -> s.journalCall(() -> held
            ? j.completeReplay(l.stream(), l.id(), r.newEntryId()).thenReturn(true).block(TIMEOUT)
            : j.recordReplay(l.stream(), l.id(), r.by(), r.newEntryId()).block(TIMEOUT)));
        return new Result(id + "  replayed to " + r.stream() + " as " + r.newEntryId() + " by " + r.by(), 0);
      }
      if (outcome instanceof AlreadyReplayed a) {
        ReplayRecord rec = a.record();
        journal.ifPresent(j -> s.journalCall(() -> rec.done()
            // Redis knows a replay the journal did not: the journal takes the guard's record
            ? j.recordReplay(l.stream(), l.id(), rec.by(), rec.newEntryId().orElse(null)).block(TIMEOUT)
            : held && j.releaseReplay(l.stream(), l.id()).thenReturn(true).block(TIMEOUT)));
        return new Result(id + "  already replayed " + describe(replay(rec).orElseThrow()) + "; nothing re-added "
            + "(--force replays it again)", 0);
      }
      if (held) {
        s.journalCall(() -> journal.get().releaseReplay(l.stream(), l.id()).thenReturn(true).block(TIMEOUT));
      }
      if (outcome instanceof NotFound) {
        return new Result(id + "  not found in " + dlq.stream(), OpsSession.NOT_FOUND);
      }
      NothingToReplay n = (NothingToReplay) outcome;
      return new Result(id + "  has no data to replay (" + n.error() + ")", 1);
    }
  }

  // ---------------------------------------------------------------- purge

  @Command(name = "purge", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Deletes dead letters from the DLQ stream (XDEL): the IDs given, or every one older than --before.",
          "With POSTGRES_URL their journal rows are kept, marked purged. Asks nothing: needs --yes (or --dry-run)."})
  static final class Purge implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "ID", arity = "0..*", description = "DLQ entry ids ('sg dlq list' shows them); with partitions P/ID, or ID when one partition has it")
    List<String> ids = new ArrayList<>();

    @Option(names = "--before", paramLabel = "T",
        description = "every dead letter older than T: an ISO-8601 instant (2024-05-01T12:00:00Z) or a duration ago (7d, 12h, 30m)")
    String before;

    @Option(names = "--yes", description = "really delete")
    boolean yes;

    @Option(names = "--dry-run", description = "print what would be deleted; change nothing")
    boolean dryRun;

    private final Sg.Context ctx;

    Purge(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (ids.isEmpty() == (before == null)) {
        throw new Cli.UsageException(ids.isEmpty() ? "give the dead letters' IDs, or --before T" : "give IDs or --before, not both");
      }
      requireIds(ids);
      Instant cut = before == null ? null : parseTime(before, Instant.now(), "--before");
      if (!yes && !dryRun) {
        throw new Cli.UsageException("purging deletes dead letters for good: add --yes (or --dry-run to see what would go)");
      }
      PrintStream out = ctx.out();
      try (OpsSession s = OpsSession.open(ctx, "sg dlq purge", true, false)) {
        DeadLetterQueue dlq = s.bus().deadLetterQueue();
        List<String> present = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        if (cut != null) {
          present.addAll(dlq.idsBefore(cut, Integer.MAX_VALUE).block(TIMEOUT));
        } else {
          for (String id : ids) {
            DeadLetter d = get(dlq, id);
            if (d != null) {
              present.add(d.ref()); // with partitions P/ID: where it is
            } else {
              missing.add(id);
            }
          }
        }
        List<String> deleted = dryRun ? List.of() : cut != null ? dlq.deleteBefore(cut).block(TIMEOUT) : dlq.delete(present).block(TIMEOUT);
        if (!dryRun) {
          List<String> gone = deleted;
          Map<String, List<String>> byStream = new LinkedHashMap<>();
          for (String ref : gone) {
            Loc l = loc(dlq, ref, null); // refs located: P/ID with partitions
            byStream.computeIfAbsent(l.stream(), k -> new ArrayList<>()).add(l.id());
          }
          s.journal().ifPresent(j -> byStream.forEach((st, ids) -> s.journalCall(() -> j.markPurged(st, ids).block(TIMEOUT))));
        }
        for (String id : dryRun ? present : deleted) {
          out.println(id + (dryRun ? "  would be purged (dry run: nothing changed)" : "  purged"));
        }
        for (String id : missing) {
          out.println(id + "  not found in " + dlq.stream());
        }
        if (cut != null) {
          out.printf("%s %d dead letter%s older than %s%n", dryRun ? "would purge" : "purged",
              dryRun ? present.size() : deleted.size(), (dryRun ? present.size() : deleted.size()) == 1 ? "" : "s", time(cut));
        }
        out.flush();
        return missing.isEmpty() ? 0 : OpsSession.NOT_FOUND;
      }
    }
  }

  /** The envelope's JSON with the wire contract's snake_case keys ({@code channel_id}, not {@code channelId}). */
  static com.fasterxml.jackson.databind.JsonNode wireKeys(com.fasterxml.jackson.databind.JsonNode n) {
    if (n.isObject()) {
      ObjectNode out = Json.object();
      n.fields().forEachRemaining(e -> out.set(snake(e.getKey()), wireKeys(e.getValue())));
      return out;
    }
    if (n.isArray()) {
      ArrayNode out = Json.array();
      n.forEach(v -> out.add(wireKeys(v)));
      return out;
    }
    return n;
  }

  private static String snake(String camel) {
    StringBuilder b = new StringBuilder(camel.length() + 4);
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) {
        b.append('_').append(Character.toLowerCase(c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
