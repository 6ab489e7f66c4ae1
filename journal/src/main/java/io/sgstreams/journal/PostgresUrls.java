package io.sgstreams.journal;

import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.util.Locale;

/** {@code POSTGRES_URL} to R2DBC options: {@code postgresql://…} and {@code r2dbc:postgresql://…} alike. */
public final class PostgresUrls {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private PostgresUrls() {}

  /** {@code r2dbc:postgresql://…} for either form. */
  public static String r2dbc(String url) {
    String t = url.trim();
    String lower = t.toLowerCase(Locale.ROOT);
    if (lower.startsWith("r2dbc:")) {
      return t;
    }
    if (lower.startsWith("postgres://")) {
      return "r2dbc:postgresql://" + t.substring("postgres://".length());
    }
    if (lower.startsWith("postgresql://")) {
      return "r2dbc:" + t;
    }
    throw new IllegalArgumentException("not a PostgreSQL URL (postgresql://… or r2dbc:postgresql://…)");
  }

  /** The options, with a 5 s connect timeout unless the URL names one. */
  public static ConnectionFactoryOptions options(String url) {
    ConnectionFactoryOptions o = ConnectionFactoryOptions.parse(r2dbc(url));
    if (!o.hasOption(ConnectionFactoryOptions.CONNECT_TIMEOUT)) {
      o = ConnectionFactoryOptions.builder().from(o).option(ConnectionFactoryOptions.CONNECT_TIMEOUT, CONNECT_TIMEOUT).build();
    }
    return o;
  }

  /** The URL without its password, for logs. */
  public static String redact(String url) {
    return url.replaceAll("(://[^:/@]+):[^@/]*@", "$1:***@");
  }
}
