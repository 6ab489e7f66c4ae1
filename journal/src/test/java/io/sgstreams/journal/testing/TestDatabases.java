package io.sgstreams.journal.testing;

import io.sgstreams.journal.PostgresUrls;
import io.sgstreams.testkit.EmbeddedPostgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A fresh database per test on the test PostgreSQL: the server {@code POSTGRES_URL} names, or else
 * one embedded PostgreSQL per test JVM started here (and stopped when the JVM exits), or under
 * {@code -Pcontainers} a {@code postgres:16} container. Databases are
 * created here under a random {@code sg_test_…} name and never dropped or flushed elsewhere.
 */
public final class TestDatabases {
  private TestDatabases() {}

  private static EmbeddedPostgres embedded;

  /** The server tests create their databases on. */
  public static synchronized String server() {
    String env = System.getenv("POSTGRES_URL");
    if (env != null && !env.isBlank()) {
      return env;
    }
    if (Boolean.getBoolean("sg.test.containers")) { // Containers (and Testcontainers) loaded only then
      return io.sgstreams.core.testing.Containers.postgresUrl();
    }
    if (embedded == null) {
      embedded = EmbeddedPostgres.start();
      EmbeddedPostgres pg = embedded;
      Runtime.getRuntime().addShutdownHook(new Thread(pg::close, "embedded-postgres-stop"));
    }
    return embedded.url();
  }

  public static String fresh() {
    String name = "sg_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String server = server();
    exec(server, "CREATE DATABASE " + name);
    return server.replaceAll("/[^/?]*(\\?.*)?$", "/" + name + "$1");
  }

  /** Runs SQL on {@code url} (tests' own checks). */
  public static void exec(String url, String sql) {
    Mono.usingWhen(Mono.from(ConnectionFactories.get(PostgresUrls.options(url)).create()),
            (Connection c) -> Flux.from(c.createStatement(sql).execute()).flatMap(r -> r.getRowsUpdated()).then(),
            Connection::close)
        .block(Duration.ofSeconds(30));
  }
}
