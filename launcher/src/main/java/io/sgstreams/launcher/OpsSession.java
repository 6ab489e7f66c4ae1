package io.sgstreams.launcher;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.topology.Role;
import io.sgstreams.journal.JournalStore;
import java.time.Duration;
import java.util.Optional;

/**
 * What the operator commands ({@code sg dlq}, {@code sg history}) work on: the configured Redis (a bus
 * of their own) and, when {@code POSTGRES_URL} is set and the journal is not off, the journal's
 * tables. Opening checks that each answers, so that an unreachable one is reported up front with its
 * own exit status ({@link #REDIS_UNREACHABLE}, {@link #POSTGRES_UNREACHABLE}) rather than as a
 * failure halfway through.
 */
final class OpsSession implements AutoCloseable {
  /** Exit status: a named dead letter is not there. */
  static final int NOT_FOUND = 3;
  /** Exit status: Redis does not answer. */
  static final int REDIS_UNREACHABLE = 5;
  /** Exit status: PostgreSQL does not answer (or has no journal tables). */
  static final int POSTGRES_UNREACHABLE = 6;
  static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final SgConfig config;
  private final RedisEventBus bus;
  private final JournalStore journal;

  private OpsSession(SgConfig config, RedisEventBus bus, JournalStore journal) {
    this.config = config;
    this.bus = bus;
    this.journal = journal;
  }

  /**
   * @param command for messages ({@code sg dlq})
   * @param needRedis whether Redis is required (history reads the journal only)
   * @param needJournal whether the journal is required (else used when configured)
   */
  static OpsSession open(Sg.Context ctx, String command, boolean needRedis, boolean needJournal) {
    SgConfig config = ConfigLoader.read(ctx.env()).config();
    JournalConfig jc = config.journal();
    boolean journalOn = jc.mode() != JournalConfig.Mode.OFF && jc.postgresUrl().isPresent();
    if (needJournal && !journalOn) {
      throw new ConfigException(ConfigSchema.Journal.POSTGRES_URL.env(), null,
          "required for '" + command + "': it reads the journal in PostgreSQL"
              + (jc.mode() == JournalConfig.Mode.OFF ? " (and SG_JOURNAL is off)" : ""));
    }
    if (needRedis && config.redisUrl().isEmpty()) {
      throw new ConfigException(ConfigSchema.Redis.URL.env(), null, "required for '" + command + "': dead letters live in Redis");
    }
    RedisEventBus bus = null;
    JournalStore journal = null;
    try {
      if (needRedis) {
        try {
          bus = RedisEventBus.connect(Role.WORKER, config, new SimpleMeterRegistry());
        } catch (RuntimeException e) {
          throw new Cli.FailedException(REDIS_UNREACHABLE, "Redis is unreachable (REDIS_URL): " + message(e));
        }
        if (!Boolean.TRUE.equals(bus.ping().block(TIMEOUT))) {
          throw new Cli.FailedException(REDIS_UNREACHABLE, "Redis is unreachable (REDIS_URL): no answer to PING");
        }
      }
      if (journalOn) {
        journal = JournalStore.connect(jc.postgresUrl().get(), 2);
        try {
          journal.ping().block(TIMEOUT);
        } catch (RuntimeException e) {
          throw new Cli.FailedException(POSTGRES_UNREACHABLE, "PostgreSQL is unreachable (POSTGRES_URL " + journal.describe()
              + "): " + message(e));
        }
      }
      return new OpsSession(config, bus, journal);
    } catch (RuntimeException e) {
      if (journal != null) {
        journal.close();
      }
      if (bus != null) {
        bus.close();
      }
      throw e;
    }
  }

  SgConfig config() {
    return config;
  }

  RedisEventBus bus() {
    return bus;
  }

  Optional<JournalStore> journal() {
    return Optional.ofNullable(journal);
  }

  /** A journal query, its failure reported as PostgreSQL being unreachable (or unusable). */
  <T> T journalCall(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      throw new Cli.FailedException(POSTGRES_UNREACHABLE, "the journal in PostgreSQL (" + journal.describe()
          + ") failed: " + message(e));
    }
  }

  static String message(Throwable e) {
    Throwable t = reactor.core.Exceptions.unwrap(e);
    while (t.getCause() != null && (t.getMessage() == null || t.getClass() == RuntimeException.class)) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  @Override
  public void close() {
    if (journal != null) {
      journal.close();
    }
    if (bus != null) {
      bus.close();
    }
  }
}
