package io.sgstreams.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@code journal} section: the PostgreSQL journal of every envelope and dead letter.
 *
 * @param mode {@code SG_JOURNAL}: whether gateways (and standalone) run the journal ({@link #enabled})
 * @param postgresUrl {@code POSTGRES_URL}; empty: none (standalone starts an embedded server)
 * @param group the journal's consumer group on the streams it reads (an observer group)
 * @param batchSize rows per INSERT
 * @param flushInterval a partial batch is written after this long
 * @param maxInFlight entries read and not yet committed (back-pressure beyond)
 * @param poolSize PostgreSQL connections per process
 * @param retryMax longest pause between two attempts to write a batch while PostgreSQL is down
 * @param embeddedPort standalone's embedded server port (0 = free)
 * @param embeddedDir standalone's embedded server data directory
 */
public record JournalConfig(
    Mode mode,
    Optional<String> postgresUrl,
    String group,
    int batchSize,
    Duration flushInterval,
    int maxInFlight,
    int poolSize,
    Duration retryMax,
    int embeddedPort,
    Path embeddedDir) {

  /** {@code SG_JOURNAL}. */
  public enum Mode {
    AUTO, ON, OFF;

    /** {@code auto}, {@code on} or {@code off}, any case. */
    public static Mode parse(String text) {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public JournalConfig {
    mode = mode == null ? Mode.AUTO : mode;
    postgresUrl = postgresUrl == null ? Optional.empty() : postgresUrl;
  }

  /**
   * Whether the journal runs: {@code on}; {@code auto} with {@code POSTGRES_URL} set, or in
   * standalone (which starts an embedded server when it is unset); never with {@code off}.
   */
  public boolean enabled(boolean standalone) {
    return switch (mode) {
      case ON -> true;
      case OFF -> false;
      case AUTO -> standalone || postgresUrl.isPresent();
    };
  }

  /**
   * {@code SG_JOURNAL=on} without {@code POSTGRES_URL} outside standalone cannot start.
   *
   * @throws ConfigException naming {@code POSTGRES_URL}
   */
  public void requireUrlUnlessStandalone(boolean standalone) {
    if (mode == Mode.ON && postgresUrl.isEmpty() && !standalone) {
      throw new ConfigException(ConfigSchema.Journal.POSTGRES_URL.env(), "",
          "must be set when " + ConfigSchema.Journal.MODE.env() + "=on (or set " + ConfigSchema.Journal.MODE.env() + "=auto/off)");
    }
  }

  public JournalConfig withMode(Mode m) {
    return new JournalConfig(m, postgresUrl, group, batchSize, flushInterval, maxInFlight, poolSize, retryMax, embeddedPort,
        embeddedDir);
  }

  public JournalConfig withPostgresUrl(String url) {
    return new JournalConfig(mode, Optional.ofNullable(url), group, batchSize, flushInterval, maxInFlight, poolSize, retryMax,
        embeddedPort, embeddedDir);
  }

  public JournalConfig withBatch(int size, Duration flush) {
    return new JournalConfig(mode, postgresUrl, group, size, flush, maxInFlight, poolSize, retryMax, embeddedPort, embeddedDir);
  }

  public JournalConfig withRetryMax(Duration d) {
    return new JournalConfig(mode, postgresUrl, group, batchSize, flushInterval, maxInFlight, poolSize, d, embeddedPort,
        embeddedDir);
  }
}
