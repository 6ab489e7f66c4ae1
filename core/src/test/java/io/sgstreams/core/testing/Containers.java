package io.sgstreams.core.testing;

import java.time.Duration;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * The {@code -Pcontainers} profile's servers: {@code redis:7.0} and {@code postgres:16} containers
 * started once per test JVM by Testcontainers (Ryuk removes them when the JVM exits). Used by {@link
 * TestRedis} and the journal's {@code TestDatabases} when the system property {@code
 * sg.test.containers} is true and {@code REDIS_URL} / {@code POSTGRES_URL} are unset; the default
 * suite uses the embedded servers and never touches Docker.
 */
public final class Containers {
  private static GenericContainer<?> redis;
  private static GenericContainer<?> postgres;

  private Containers() {}

  /** True under {@code -Pcontainers}. */
  public static boolean enabled() {
    return Boolean.getBoolean("sg.test.containers");
  }

  public static synchronized String redisUrl() {
    if (redis == null) {
      GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse("redis:7.0"))
          .withExposedPorts(6379)
          .waitingFor(Wait.forLogMessage(".*Ready to accept connections.*", 1))
          .withStartupTimeout(Duration.ofMinutes(2));
      c.start();
      redis = c;
    }
    return "redis://" + redis.getHost() + ":" + redis.getMappedPort(6379);
  }

  public static synchronized String postgresUrl() {
    if (postgres == null) {
      GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse("postgres:16"))
          .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
          .withExposedPorts(5432)
          // the entrypoint starts the server twice (init, then for real)
          .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*", 2))
          .withStartupTimeout(Duration.ofMinutes(2));
      c.start();
      postgres = c;
    }
    return "postgresql://postgres@" + postgres.getHost() + ":" + postgres.getMappedPort(5432) + "/postgres";
  }
}
