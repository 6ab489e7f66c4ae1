package io.sgstreams.journal.testing;

import io.sgstreams.journal.PostgresUrls;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import java.time.Duration;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A fresh database per test on the test PostgreSQL, created here and never dropped elsewhere. */
public final class TestDatabases {
  private TestDatabases() {}

  public static String server() {
    String env = System.getenv("POSTGRES_URL");
    return env != null && !env.isBlank() ? env : "postgresql://postgres@127.0.0.1:5432/postgres";
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
