package io.sgstreams.journal;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Applies the journal's schema migrations: the versioned SQL files listed in
 * {@code migrations/index.txt} beside this class ({@code V{n}__{description}.sql}), each once, in
 * version order, each in its own transaction, recorded in {@code sg_schema_history} (version,
 * description, SHA-256 of the file, when). The whole run holds a PostgreSQL advisory lock, so
 * several gateways starting at once apply each migration exactly once and the others wait. A
 * recorded migration whose file changed since is an error (a migration is never edited, a new one
 * is added).
 *
 * <p>Hand-written rather than Flyway: one table and one lock, on the R2DBC driver the journal
 * already uses (Flyway would add JDBC, pgjdbc and its own startup to every gateway).
 */
public final class Migrations {
  private static final Logger log = LoggerFactory.getLogger(Migrations.class);
  /** {@code pg_advisory_lock} key: "sgjournal" in ASCII, as a number. */
  static final long LOCK_KEY = 0x73676a6f75726eL;
  private static final Pattern NAME = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.sql");

  /** One migration file. */
  public record Migration(int version, String description, String sql, String checksum) {}

  private final List<Migration> migrations;

  public Migrations(List<Migration> migrations) {
    this.migrations = List.copyOf(migrations);
    for (int i = 1; i < this.migrations.size(); i++) {
      if (this.migrations.get(i).version() <= this.migrations.get(i - 1).version()) {
        throw new IllegalArgumentException("migrations must be listed in increasing version order");
      }
    }
  }

  /** The migrations shipped with this library. */
  public static Migrations bundled() {
    return fromResources("migrations/");
  }

  static Migrations fromResources(String dir) {
    String index = read(dir + "index.txt");
    List<Migration> out = new ArrayList<>();
    for (String line : index.split("\n")) {
      String name = line.trim();
      if (name.isEmpty() || name.startsWith("#")) {
        continue;
      }
      Matcher m = NAME.matcher(name);
      if (!m.matches()) {
        throw new IllegalStateException("migration file name '" + name + "' is not V{n}__{description}.sql");
      }
      String sql = read(dir + name);
      out.add(new Migration(Integer.parseInt(m.group(1)), m.group(2).replace('_', ' '), sql, sha256(sql)));
    }
    return new Migrations(out);
  }

  public List<Migration> all() {
    return migrations;
  }

  /**
   * Applies what is missing, on one connection of its own (the advisory lock is the
   * connection's); the versions applied by this call.
   */
  public Mono<List<Integer>> apply(ConnectionFactory factory) {
    return Mono.usingWhen(Mono.from(factory.create()),
        c -> run(c, "SELECT pg_advisory_lock(" + LOCK_KEY + ")")
            .then(Mono.defer(() -> applyLocked(c)))
            .flatMap(applied -> run(c, "SELECT pg_advisory_unlock(" + LOCK_KEY + ")").thenReturn(applied)),
        Connection::close,
        (c, e) -> c.close(),
        Connection::close);
  }

  private Mono<List<Integer>> applyLocked(Connection c) {
    return run(c, "CREATE TABLE IF NOT EXISTS sg_schema_history (version integer PRIMARY KEY, description text NOT NULL, "
            + "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
        .thenMany(Flux.from(c.createStatement("SELECT version, checksum FROM sg_schema_history ORDER BY version").execute())
            .flatMap(r -> r.map((row, meta) -> Map.entry(row.get(0, Integer.class), row.get(1, String.class)))))
        .collectMap(Map.Entry::getKey, Map.Entry::getValue)
        .flatMap(applied -> {
          for (Map.Entry<Integer, String> e : applied.entrySet()) {
            Migration m = migrations.stream().filter(x -> x.version() == e.getKey()).findFirst().orElse(null);
            if (m == null) {
              return Mono.error(new IllegalStateException("the database has journal schema version " + e.getKey()
                  + ", newer than this program knows (" + latest() + "): run a newer sg-streams"));
            }
            if (!m.checksum().equals(e.getValue())) {
              return Mono.error(new IllegalStateException("journal migration V" + m.version() + " (" + m.description()
                  + ") was changed after it was applied (checksum " + e.getValue() + " in sg_schema_history, "
                  + m.checksum() + " now)"));
            }
          }
          return Flux.fromIterable(migrations)
              .filter(m -> !applied.containsKey(m.version()))
              .concatMap(m -> applyOne(c, m).thenReturn(m.version()))
              .collectList();
        });
  }

  private static Mono<Void> applyOne(Connection c, Migration m) {
    long t0 = System.nanoTime();
    return Mono.from(c.beginTransaction())
        .then(run(c, m.sql()))
        .then(Mono.from(c.createStatement("INSERT INTO sg_schema_history (version, description, checksum) VALUES ($1, $2, $3)")
                .bind(0, m.version()).bind(1, m.description()).bind(2, m.checksum()).execute())
            .flatMap(r -> Mono.from(r.getRowsUpdated())))
        .then(Mono.from(c.commitTransaction()))
        .doOnSuccess(v -> log.info("journal: applied schema migration V{} ({}) in {} ms", m.version(), m.description(),
            (System.nanoTime() - t0) / 1_000_000))
        .onErrorResume(e -> Mono.from(c.rollbackTransaction()).onErrorResume(x -> Mono.empty())
            .then(Mono.error(new IllegalStateException("journal migration V" + m.version() + " (" + m.description()
                + ") failed: " + e.getMessage(), e))));
  }

  /** Runs SQL without parameters (several statements allowed: the simple query protocol), draining every result. */
  static Mono<Void> run(Connection c, String sql) {
    return Flux.from(c.createStatement(sql).execute()).concatMap(Result::getRowsUpdated).then();
  }

  public int latest() {
    return migrations.isEmpty() ? 0 : migrations.get(migrations.size() - 1).version();
  }

  private static String read(String resource) {
    try (InputStream in = Migrations.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + resource + " next to " + Migrations.class.getName());
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
