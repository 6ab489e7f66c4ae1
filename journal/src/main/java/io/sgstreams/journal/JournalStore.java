package io.sgstreams.journal;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Statement;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The journal's tables through an R2DBC connection pool: batched inserts (idempotent on
 * (stream, entry id)) and the queries built on them — a conversation's history, its recent turns,
 * replies after a stream id (resume), dead letters and their replays. Every method is
 * non-blocking; a database that is down fails the call (after the pool's acquire timeout).
 */
public final class JournalStore implements AutoCloseable {
  static final int JOURNAL_COLUMNS = 17;
  static final int DEAD_LETTER_COLUMNS = 20;
  private static final String JOURNAL_INSERT_ARRAYS = "INSERT INTO sg_journal (stream, entry_id, entry_ms, entry_seq, "
      + "kind, envelope_id, correlation_id, tenant_id, platform, channel_id, user_id, type, in_reply_to, content, "
      + "enqueued_at, replay_of, data) "
      + "SELECT stream, entry_id, entry_ms, entry_seq, kind, envelope_id, correlation_id, tenant_id, platform, channel_id, "
      + "user_id, type, in_reply_to, content, to_timestamp(enqueued_ms / 1000.0), replay_of, data "
      + "FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::text[], "
      + "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int8[], $16::text[], $17::bytea[]) "
      + "AS t(stream, entry_id, entry_ms, entry_seq, kind, envelope_id, correlation_id, tenant_id, platform, channel_id, "
      + "user_id, type, in_reply_to, content, enqueued_ms, replay_of, data) "
      + "ON CONFLICT (stream, entry_id) DO NOTHING";
  private static final String DEAD_LETTER_INSERT = "INSERT INTO sg_dead_letters (stream, entry_id, entry_ms, entry_seq, "
      + "original_stream, original_id, consumer_group, consumer, deliveries, error, dead_at, trace_id, kind, envelope_id, "
      + "tenant_id, platform, channel_id, data, replay_claimed_at, replayed_by) VALUES ";
  private static final String JOURNAL_SELECT = "SELECT stream, entry_id, kind, envelope_id, correlation_id, tenant_id, "
      + "platform, channel_id, user_id, type, in_reply_to, content, enqueued_at, replay_of, data FROM sg_journal ";
  private static final String DEAD_LETTER_SELECT = "SELECT stream, entry_id, original_stream, original_id, consumer_group, "
      + "consumer, deliveries, error, dead_at, trace_id, kind, envelope_id, tenant_id, platform, channel_id, data, "
      + "replayed_at, replayed_by, replay_entry_id, purged_at FROM sg_dead_letters ";

  private final ConnectionFactory connections;
  private final ConnectionPool pool;
  private final String url;

  private JournalStore(String url, ConnectionFactory connections, ConnectionPool pool) {
    this.url = url;
    this.connections = connections;
    this.pool = pool;
  }

  /** A pool of at most {@code poolSize} connections to {@code url} ({@code postgresql://…} or {@code r2dbc:postgresql://…}). */
  public static JournalStore connect(String url, int poolSize) {
    ConnectionFactory raw = ConnectionFactories.get(PostgresUrls.options(url).mutate()
        .option(io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider.EXTENSIONS, List.of(BinaryArrays.registrar()))
        .build());
    ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration.builder(raw)
        .name("sg-journal")
        .initialSize(0)
        .maxSize(poolSize)
        .maxIdleTime(Duration.ofMinutes(10))
        .maxAcquireTime(Duration.ofSeconds(10))
        .maxValidationTime(Duration.ofSeconds(5))
        .build());
    return new JournalStore(url, raw, pool);
  }

  /** Applies the schema migrations (advisory-locked: safe with several processes starting at once). */
  public Mono<List<Integer>> migrate() {
    return Migrations.bundled().apply(connections);
  }

  /** {@code POSTGRES_URL} without its password. */
  public String describe() {
    return PostgresUrls.redact(url);
  }

  // ---------------------------------------------------------------- writes

  /**
   * Inserts the rows not there yet, in one statement; how many were new. The batch travels as 17
   * arrays unnested by PostgreSQL, so the statement text is always the same (parsed and planned
   * once per connection) whatever the batch size: a multi-row VALUES list of 500 rows had 8,500
   * parameters that the driver re-parsed for every batch, most of the journal's CPU (profiled with
   * {@code sg bench --journal}). The arrays go in PostgreSQL's binary format ({@link BinaryArrays}),
   * the envelope bytes as a {@code bytea[]}: the driver's own text arrays escaped every element
   * through a string builder of its own and had no {@code bytea[]} (the bytes went base64-encoded).
   */
  public Mono<Long> insertJournal(List<JournalRow> rows) {
    if (rows.isEmpty()) {
      return Mono.just(0L);
    }
    int n = rows.size();
    String[] stream = new String[n];
    String[] entryId = new String[n];
    Long[] entryMs = new Long[n];
    Long[] entrySeq = new Long[n];
    String[] kind = new String[n];
    String[] envelopeId = new String[n];
    String[] correlationId = new String[n];
    String[] tenantId = new String[n];
    String[] platform = new String[n];
    String[] channelId = new String[n];
    String[] userId = new String[n];
    String[] type = new String[n];
    String[] inReplyTo = new String[n];
    String[] content = new String[n];
    Long[] enqueuedAt = new Long[n];
    String[] replayOf = new String[n];
    byte[][] data = new byte[n][];
    for (int i = 0; i < n; i++) {
      JournalRow r = rows.get(i);
      stream[i] = r.stream();
      entryId[i] = r.entryId();
      entryMs[i] = r.entryMs();
      entrySeq[i] = r.entrySeq();
      kind[i] = r.kind();
      envelopeId[i] = r.envelopeId();
      correlationId[i] = r.correlationId();
      tenantId[i] = r.tenantId();
      platform[i] = r.platform();
      channelId[i] = r.channelId();
      userId[i] = r.userId();
      type[i] = r.type();
      inReplyTo[i] = r.inReplyTo();
      content[i] = r.content();
      enqueuedAt[i] = r.enqueuedAt();
      replayOf[i] = r.replayOf();
      data[i] = r.data();
    }
    Object[] columns = {BinaryArrays.text(stream), BinaryArrays.text(entryId), BinaryArrays.int8(entryMs),
        BinaryArrays.int8(entrySeq), BinaryArrays.text(kind), BinaryArrays.text(envelopeId),
        BinaryArrays.text(correlationId), BinaryArrays.text(tenantId), BinaryArrays.text(platform),
        BinaryArrays.text(channelId), BinaryArrays.text(userId), BinaryArrays.text(type), BinaryArrays.text(inReplyTo),
        BinaryArrays.text(content), BinaryArrays.int8(enqueuedAt), BinaryArrays.text(replayOf), BinaryArrays.bytea(data)};
    return withConnection(c -> {
      Statement st = c.createStatement(JOURNAL_INSERT_ARRAYS);
      for (int i = 0; i < columns.length; i++) {
        st.bind(i, columns[i]);
      }
      return rowsUpdated(st);
    });
  }

  /** Inserts the dead letters not there yet; how many were new. */
  public Mono<Long> insertDeadLetters(List<DeadLetterRow> rows) {
    if (rows.isEmpty()) {
      return Mono.just(0L);
    }
    return withConnection(c -> {
      Statement st = c.createStatement(DEAD_LETTER_INSERT + placeholders(rows.size(), DEAD_LETTER_COLUMNS)
          + " ON CONFLICT (stream, entry_id) DO NOTHING");
      int i = 0;
      for (DeadLetterRow r : rows) {
        bind(st, i++, r.stream(), String.class);
        bind(st, i++, r.entryId(), String.class);
        bind(st, i++, r.entryMs(), Long.class);
        bind(st, i++, r.entrySeq(), Long.class);
        bind(st, i++, r.originalStream(), String.class);
        bind(st, i++, r.originalId(), String.class);
        bind(st, i++, r.group(), String.class);
        bind(st, i++, r.consumer(), String.class);
        bind(st, i++, r.deliveries(), Long.class);
        bind(st, i++, r.error(), String.class);
        bind(st, i++, r.deadAt() == null ? null : Instant.ofEpochMilli(r.deadAt()), Instant.class);
        bind(st, i++, r.traceId(), String.class);
        bind(st, i++, r.kind(), String.class);
        bind(st, i++, r.envelopeId(), String.class);
        bind(st, i++, r.tenantId(), String.class);
        bind(st, i++, r.platform(), String.class);
        bind(st, i++, r.channelId(), String.class);
        bind(st, i++, r.data() == null ? null : ByteBuffer.wrap(r.data()), ByteBuffer.class);
        bind(st, i++, r.replayedAt(), Instant.class);
        bind(st, i++, r.replayedBy(), String.class);
      }
      return rowsUpdated(st);
    });
  }

  // ---------------------------------------------------------------- conversation queries

  /**
   * A conversation's requests and answers ({@code inbound}, and {@code outbound} of every type the
   * journal keeps), newest first, strictly before {@code before} (null: from the newest).
   */
  public Flux<JournalRow> conversation(String tenant, String platform, String channel, Cursor before, int limit) {
    String where = "WHERE tenant_id = $1 AND platform = $2 AND channel_id = $3 AND kind IN ('inbound', 'outbound') "
        + (before == null ? "" : "AND (entry_ms, entry_seq, stream) < ($4, $5, $6) ");
    return withConnectionMany(c -> {
      Statement st = c.createStatement(JOURNAL_SELECT + where
          + "ORDER BY entry_ms DESC, entry_seq DESC, stream DESC LIMIT " + Math.max(1, limit));
      st.bind(0, tenant).bind(1, platform).bind(2, channel);
      if (before != null) {
        st.bind(3, before.entryMs()).bind(4, before.entrySeq()).bind(5, before.stream());
      }
      return Flux.from(st.execute()).flatMap(r -> r.map(JournalStore::journalRow));
    });
  }

  /** The conversation's rows on {@code stream} after entry {@code afterId}, oldest first (resume). */
  public Flux<JournalRow> after(String stream, String tenant, String platform, String channel, String afterId, int limit) {
    return withConnectionMany(c -> {
      Statement st = c.createStatement(JOURNAL_SELECT
          + "WHERE tenant_id = $1 AND platform = $2 AND channel_id = $3 AND stream = $4 AND (entry_ms, entry_seq) > ($5, $6) "
          + "ORDER BY entry_ms, entry_seq LIMIT " + Math.max(1, limit));
      st.bind(0, tenant).bind(1, platform).bind(2, channel).bind(3, stream)
          .bind(4, io.sgstreams.core.bus.EntryIds.millis(afterId)).bind(5, io.sgstreams.core.bus.EntryIds.sequence(afterId));
      return Flux.from(st.execute()).flatMap(r -> r.map(JournalStore::journalRow));
    });
  }

  /**
   * The conversation's last {@code limit} turns' parts — user messages ({@code inbound}) and
   * answers ({@code outbound} of type {@code message}) — oldest first.
   */
  public Flux<JournalRow> recentTurns(String tenant, String platform, String channel, int limit) {
    return withConnectionMany(c -> {
      Statement st = c.createStatement(JOURNAL_SELECT
          + "WHERE tenant_id = $1 AND platform = $2 AND channel_id = $3 "
          + "AND (kind = 'inbound' OR (kind = 'outbound' AND type = 'message')) "
          + "ORDER BY entry_ms DESC, entry_seq DESC, stream DESC LIMIT " + Math.max(1, limit));
      st.bind(0, tenant).bind(1, platform).bind(2, channel);
      return Flux.from(st.execute()).flatMap(r -> r.map(JournalStore::journalRow));
    }).collectList().flatMapMany(l -> {
      List<JournalRow> oldestFirst = new ArrayList<>(l);
      java.util.Collections.reverse(oldestFirst);
      return Flux.fromIterable(oldestFirst);
    });
  }

  /** Rows of {@code stream} (tests, tools): entry id order, at most {@code limit}. */
  public Flux<JournalRow> stream(String stream, int limit) {
    return withConnectionMany(c -> Flux.from(c.createStatement(JOURNAL_SELECT
            + "WHERE stream = $1 ORDER BY entry_ms, entry_seq LIMIT " + Math.max(1, limit)).bind(0, stream).execute())
        .flatMap(r -> r.map(JournalStore::journalRow)));
  }

  /** How many rows {@code stream} has. */
  public Mono<Long> count(String stream) {
    return withConnection(c -> Mono.from(c.createStatement("SELECT count(*) FROM sg_journal WHERE stream = $1")
            .bind(0, stream).execute())
        .flatMap(r -> Mono.from(r.map(row -> row.get(0, Long.class)))));
  }

  // ---------------------------------------------------------------- dead letters

  /** Dead letters of {@code dlqStream}, newest first, optionally of one original stream or error prefix; purged ones only when asked. */
  public Flux<DeadLetterRow> deadLetters(String dlqStream, String originalStream, String errorPrefix, boolean includePurged,
      int limit) {
    return deadLetters(dlqStream, originalStream, errorPrefix, includePurged, limit, false);
  }

  /** As {@link #deadLetters(String, String, String, boolean, int)}, oldest first when {@code oldestFirst} ({@code sg dlq list --oldest}). */
  public Flux<DeadLetterRow> deadLetters(String dlqStream, String originalStream, String errorPrefix, boolean includePurged,
      int limit, boolean oldestFirst) {
    StringBuilder where = new StringBuilder("WHERE stream = $1 ");
    List<Object> args = new ArrayList<>(List.of(dlqStream));
    if (originalStream != null) {
      args.add(originalStream);
      where.append("AND original_stream = $").append(args.size()).append(' ');
    }
    if (errorPrefix != null) {
      args.add(errorPrefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
      where.append("AND error LIKE $").append(args.size()).append(' ');
    }
    if (!includePurged) {
      where.append("AND purged_at IS NULL ");
    }
    return withConnectionMany(c -> {
      Statement st = c.createStatement(DEAD_LETTER_SELECT + where
          + (oldestFirst ? "ORDER BY entry_ms, entry_seq LIMIT " : "ORDER BY entry_ms DESC, entry_seq DESC LIMIT ") + Math.max(1, limit));
      for (int i = 0; i < args.size(); i++) {
        st.bind(i, args.get(i));
      }
      return Flux.from(st.execute()).flatMap(r -> r.map(JournalStore::deadLetterRow));
    });
  }

  public Mono<DeadLetterRow> deadLetter(String dlqStream, String entryId) {
    return withConnection(c -> Mono.from(c.createStatement(DEAD_LETTER_SELECT + "WHERE stream = $1 AND entry_id = $2")
            .bind(0, dlqStream).bind(1, entryId).execute())
        .flatMap(r -> Mono.from(r.map(JournalStore::deadLetterRow))));
  }

  /**
   * Takes a dead letter for replay: true once, for the first caller (its row must exist and not
   * be taken yet); a second replay is refused until {@link #releaseReplay} (a failed one).
   */
  public Mono<Boolean> claimReplay(String dlqStream, String entryId, String by) {
    return withConnection(c -> rowsUpdated(c.createStatement("UPDATE sg_dead_letters SET replay_claimed_at = now(), "
            + "replayed_by = $3 WHERE stream = $1 AND entry_id = $2 AND replay_claimed_at IS NULL")
        .bind(0, dlqStream).bind(1, entryId).bind(2, by))).map(n -> n == 1);
  }

  /** Records that the replay of a dead letter added {@code newEntryId}. */
  public Mono<Void> completeReplay(String dlqStream, String entryId, String newEntryId) {
    return withConnection(c -> rowsUpdated(c.createStatement("UPDATE sg_dead_letters SET replayed_at = now(), "
            + "replay_entry_id = $3 WHERE stream = $1 AND entry_id = $2")
        .bind(0, dlqStream).bind(1, entryId).bind(2, newEntryId))).then();
  }

  /**
   * Records a replay that happened without this row's claim (forced, or found done by the Redis
   * guard): who, the new entry, now; whatever the row said before. False when there is no row.
   */
  public Mono<Boolean> recordReplay(String dlqStream, String entryId, String by, String newEntryId) {
    return withConnection(c -> rowsUpdated(c.createStatement("UPDATE sg_dead_letters SET "
            + "replay_claimed_at = coalesce(replay_claimed_at, now()), replayed_at = now(), replayed_by = $3, "
            + "replay_entry_id = $4 WHERE stream = $1 AND entry_id = $2")
        .bind(0, dlqStream).bind(1, entryId).bind(2, by).bind(3, newEntryId))).map(n -> n == 1);
  }

  /** Gives back a claim whose replay failed before anything was added. */
  public Mono<Void> releaseReplay(String dlqStream, String entryId) {
    return withConnection(c -> rowsUpdated(c.createStatement("UPDATE sg_dead_letters SET replay_claimed_at = NULL, "
            + "replayed_by = NULL WHERE stream = $1 AND entry_id = $2 AND replayed_at IS NULL")
        .bind(0, dlqStream).bind(1, entryId))).then();
  }

  /** Marks dead letters removed from the DLQ stream. */
  public Mono<Long> markPurged(String dlqStream, List<String> entryIds) {
    if (entryIds.isEmpty()) {
      return Mono.just(0L);
    }
    return withConnection(c -> rowsUpdated(c.createStatement("UPDATE sg_dead_letters SET purged_at = now() "
            + "WHERE stream = $1 AND entry_id = ANY($2) AND purged_at IS NULL")
        .bind(0, dlqStream).bind(1, entryIds.toArray(new String[0]))));
  }

  // ---------------------------------------------------------------- plumbing

  /** A trivial query: the database answers. */
  public Mono<Boolean> ping() {
    return withConnection(c -> Flux.from(c.createStatement("SELECT 1").execute())
        .flatMap(r -> r.map(row -> row.get(0, Integer.class))).then(Mono.just(true)));
  }

  private <T> Mono<T> withConnection(Function<Connection, Mono<T>> f) {
    return Mono.usingWhen(pool.create(), f, Connection::close, (c, e) -> c.close(), Connection::close);
  }

  private <T> Flux<T> withConnectionMany(Function<Connection, Flux<T>> f) {
    return Flux.usingWhen(pool.create(), f, Connection::close, (c, e) -> c.close(), Connection::close);
  }

  private static Mono<Long> rowsUpdated(Statement st) {
    return Flux.from(st.execute()).concatMap(r -> Mono.from(r.getRowsUpdated())).reduce(0L, Long::sum);
  }

  static String placeholders(int rows, int columns) {
    StringBuilder b = new StringBuilder(rows * columns * 5);
    int n = 1;
    for (int r = 0; r < rows; r++) {
      b.append(r == 0 ? "(" : ", (");
      for (int c = 0; c < columns; c++) {
        b.append(c == 0 ? "$" : ", $").append(n++);
      }
      b.append(')');
    }
    return b.toString();
  }

  private static void bind(Statement st, int index, Object value, Class<?> type) {
    if (value == null) {
      st.bindNull(index, type);
    } else {
      st.bind(index, value);
    }
  }

  private static JournalRow journalRow(Readable r) {
    Instant enq = r.get("enqueued_at", Instant.class);
    ByteBuffer data = r.get("data", ByteBuffer.class);
    return new JournalRow(r.get("stream", String.class), r.get("entry_id", String.class), r.get("kind", String.class),
        r.get("envelope_id", String.class), r.get("correlation_id", String.class), r.get("tenant_id", String.class),
        r.get("platform", String.class), r.get("channel_id", String.class), r.get("user_id", String.class),
        r.get("type", String.class), r.get("in_reply_to", String.class), r.get("content", String.class),
        enq == null ? null : enq.toEpochMilli(), r.get("replay_of", String.class), bytes(data));
  }

  private static DeadLetterRow deadLetterRow(Readable r) {
    Instant dead = r.get("dead_at", Instant.class);
    return new DeadLetterRow(r.get("stream", String.class), r.get("entry_id", String.class),
        r.get("original_stream", String.class), r.get("original_id", String.class), r.get("consumer_group", String.class),
        r.get("consumer", String.class), r.get("deliveries", Long.class), r.get("error", String.class),
        dead == null ? null : dead.toEpochMilli(), r.get("trace_id", String.class), r.get("kind", String.class),
        r.get("envelope_id", String.class), r.get("tenant_id", String.class), r.get("platform", String.class),
        r.get("channel_id", String.class), bytes(r.get("data", ByteBuffer.class)), r.get("replayed_at", Instant.class),
        r.get("replayed_by", String.class), r.get("replay_entry_id", String.class), r.get("purged_at", Instant.class));
  }

  private static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  /** Closes the pool's connections without blocking (safe on a Reactor thread). */
  public Mono<Void> closeLater() {
    return pool.disposeLater();
  }

  /** Closes the pool, waiting for it; on a non-blocking (Reactor) thread it closes in the background instead. */
  @Override
  public void close() {
    if (reactor.core.scheduler.Schedulers.isInNonBlockingThread()) {
      pool.disposeLater().subscribe(null, e -> { });
    } else {
      pool.dispose();
    }
  }
}
