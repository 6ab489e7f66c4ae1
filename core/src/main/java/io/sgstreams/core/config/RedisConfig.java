package io.sgstreams.core.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Which Redis to use.
 *
 * @param url {@code redis.url}; empty when unset: {@code sg standalone} then starts an embedded
 *     Redis, every other role refuses to start
 * @param embeddedPort {@code redis.embedded_port}: the embedded Redis's port (0 picks a free one)
 * @param embeddedDir {@code redis.embedded_dir}: its data directory
 */
public record RedisConfig(Optional<String> url, int embeddedPort, Path embeddedDir) {
  public RedisConfig {
    url = url == null ? Optional.empty() : url.filter(s -> !s.isBlank());
    if (embeddedPort < 0 || embeddedPort > 65535) {
      throw new IllegalArgumentException("embedded Redis port must be 0-65535, got " + embeddedPort);
    }
  }

  public RedisConfig withUrl(String u) {
    return new RedisConfig(Optional.ofNullable(u), embeddedPort, embeddedDir);
  }
}
