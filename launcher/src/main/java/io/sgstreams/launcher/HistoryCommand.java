package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.json.Json;
import io.sgstreams.journal.Cursor;
import io.sgstreams.journal.JournalRow;
import io.sgstreams.journal.JournalStore;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sg history CHANNEL}: one conversation as the journal recorded it (the same rows and cursor as
 * the gateway's {@code GET /v1/channels/{id}/messages}), for an operator looking into what a user was
 * told, e.g. after replaying a dead letter. Reads PostgreSQL only ({@code POSTGRES_URL}).
 */
@Command(name = "history", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Prints a conversation from the journal, oldest at the top: time, direction (→ user message, "
        + "← reply), content; and the cursor of the older part when there is more.",
        "Needs POSTGRES_URL (the journal runs in the gateway, or 'sg standalone')."},
    footer = {"", "Exit status: 0 done, 2 usage or configuration error (POSTGRES_URL unset, a bad cursor), "
        + "6 PostgreSQL unreachable."})
final class HistoryCommand implements Callable<Integer> {
  static final int MAX_LIMIT = 1000;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Parameters(paramLabel = "CHANNEL", description = "the channel id")
  String channel;

  @Option(names = "--platform", paramLabel = "P", defaultValue = "web", description = "the platform (default ${DEFAULT-VALUE})")
  String platform;

  @Option(names = "--tenant", paramLabel = "T", defaultValue = Envelope.DEFAULT_TENANT,
      description = "the tenant (default ${DEFAULT-VALUE})")
  String tenant;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "at most N entries, the newest ones (default ${DEFAULT-VALUE})")
  int limit;

  @Option(names = "--before", paramLabel = "CURSOR", description = "only entries older than this cursor (printed by a previous page)")
  String before;

  @Option(names = "--json", description = "one JSON object: messages [{entry_id, stream, time, direction, kind, type, "
      + "user_id, envelope_id, in_reply_to, content, replay_of}] oldest first, next_before (or null)")
  boolean json;

  private final Sg.Context ctx;

  HistoryCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new Cli.UsageException("--limit must be from 1 to " + MAX_LIMIT + ", got " + limit);
    }
    Cursor cursor;
    try {
      cursor = before == null ? null : Cursor.decode(before.strip());
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException("--before: '" + before + "' is not a history cursor (use the one a previous page printed)");
    }
    try (OpsSession s = OpsSession.open(ctx, "sg history", false, true)) {
      JournalStore j = s.journal().orElseThrow();
      List<JournalRow> rows = s.journalCall(() -> j.conversation(tenant, platform, channel, cursor, limit + 1)
          .collectList().block(OpsSession.TIMEOUT));
      boolean more = rows.size() > limit;
      List<JournalRow> shown = new ArrayList<>(more ? rows.subList(0, limit) : rows);
      String next = more ? cursorOf(shown.get(shown.size() - 1)) : null;
      Collections.reverse(shown); // oldest at the top
      PrintStream out = ctx.out();
      if (json) {
        ObjectNode root = Json.object();
        root.put("channel_id", channel);
        root.put("platform", platform);
        root.put("tenant", tenant);
        ArrayNode arr = root.putArray("messages");
        for (JournalRow r : shown) {
          ObjectNode n = arr.addObject();
          n.put("entry_id", r.entryId());
          n.put("stream", r.stream());
          n.put("time", time(r).toString());
          n.put("direction", inbound(r) ? "in" : "out");
          n.put("kind", r.kind());
          n.put("type", r.type());
          n.put("user_id", r.userId());
          n.put("envelope_id", r.envelopeId());
          n.put("in_reply_to", r.inReplyTo());
          n.put("content", r.content());
          n.put("replay_of", r.replayOf());
        }
        root.put("next_before", next);
        out.println(Json.write(root));
      } else if (shown.isEmpty()) {
        out.printf("no messages in channel %s (platform %s, tenant %s)%s%n", channel, platform, tenant,
            cursor == null ? "" : " before that cursor");
      } else {
        out.printf("# channel %s (platform %s, tenant %s), oldest first%n", channel, platform, tenant);
        for (JournalRow r : shown) {
          String who = inbound(r)
              ? "→ " + (r.userId() == null ? "user" : r.userId())
              : "← " + (r.type() == null ? "reply" : r.type());
          String replay = r.replayOf() == null ? "" : "  (replay of dead letter " + r.replayOf() + ")";
          out.printf("%-20s  %-16s  %s%s%n", DlqCommand.time(time(r)), DlqCommand.oneLine(who, 16),
              r.content() == null ? "" : r.content().replace("\n", "\n" + " ".repeat(40)), replay);
        }
        if (next != null) {
          out.printf("# older: sg history %s --platform %s --tenant %s --before %s%n", channel, platform, tenant, next);
        }
      }
      out.flush();
      return 0;
    }
  }

  static String cursorOf(JournalRow r) {
    return new Cursor(r.entryMs(), r.entrySeq(), r.stream()).encode();
  }

  private static boolean inbound(JournalRow r) {
    return "inbound".equals(r.kind());
  }

  private static Instant time(JournalRow r) {
    return Instant.ofEpochMilli(r.entryMs()); // when it reached its stream (a replayed message: when it was replayed)
  }
}
