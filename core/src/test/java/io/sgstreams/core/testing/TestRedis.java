package io.sgstreams.core.testing;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConsumerSettings;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.topology.Role;
import io.sgstreams.testkit.EmbeddedRedis;
import java.util.UUID;

/**
 * The Redis the tests use: {@code REDIS_URL} when set, else one embedded Redis 7.0 (the test
 * kit's {@link EmbeddedRedis}, no persistence) started once per test JVM, or under {@code
 * -Pcontainers} a {@code redis:7.0} container ({@link Containers}). Tests never flush it:
 * each one works under a namespace of its own ({@link #namespace()}), so pointing REDIS_URL at a
 * shared server is safe.
 */
public final class TestRedis {
  private static EmbeddedRedis embedded;

  private TestRedis() {}

  public static synchronized String url() {
    String env = System.getenv("REDIS_URL");
    if (env != null && !env.isBlank()) {
      return env;
    }
    if (Boolean.getBoolean("sg.test.containers")) { // Containers (and Testcontainers) loaded only then
      return Containers.redisUrl();
    }
    if (embedded == null) {
      embedded = EmbeddedRedis.start();
      EmbeddedRedis e = embedded;
      Runtime.getRuntime().addShutdownHook(new Thread(e::close, "embedded-redis-stop"));
    }
    return embedded.url();
  }

  /** A fresh key namespace, e.g. {@code test:3f2a…}. */
  public static String namespace() {
    return "test:" + UUID.randomUUID().toString().substring(0, 12);
  }

  /** A configuration with every stream under a new namespace, fast claim settings for tests. */
  public static SgConfig config(String nodeId) {
    SgConfig base = SgConfig.defaults(nodeId);
    return base.withTopology(base.topology().withNamespace(namespace()))
        .withConsumer(ConsumerSettings.defaults()
            .withClaim(java.time.Duration.ofMillis(500), java.time.Duration.ofMillis(100))
            .withRead(50, java.time.Duration.ofMillis(200))
            .withDrainTimeout(java.time.Duration.ofSeconds(5)));
  }

  public static RedisEventBus bus(String redisUrl, Role role, SgConfig config) {
    return RedisEventBus.connect(role, config.withRedisUrl(redisUrl), new SimpleMeterRegistry());
  }
}
