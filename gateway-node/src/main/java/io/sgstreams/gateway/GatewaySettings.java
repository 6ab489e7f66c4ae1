package io.sgstreams.gateway;

import io.sgstreams.core.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The gateway node's settings, read once from the environment. Immutable.
 *
 * @param host SG_HTTP_HOST, default 127.0.0.1
 * @param port SG_HTTP_PORT, default 8080; 0 picks a free port
 * @param apiKeys SG_API_KEYS (comma-separated); empty means auth off, allowed on loopback only
 * @param maxWait SG_MAX_WAIT_SECONDS: cap for {@code ?wait=}, default 30
 * @param maxBodyBytes SG_MAX_BODY_BYTES: largest request body or WebSocket frame, default 1 MiB
 * @param rateLimitPerMinute SG_RATE_LIMIT_PER_MINUTE per key (or remote address), default 600, 0 = off
 * @param webhookUrl SG_WEBHOOK_URL: where {@code webhook} replies are POSTed; empty = no webhook consumer
 * @param webhookMaxAttempts SG_WEBHOOK_MAX_ATTEMPTS before the entry is dead-lettered, default 5
 * @param webhookBackoff SG_WEBHOOK_BACKOFF_MS: first retry pause, doubled each time (max 30 s), default 500
 * @param webhookTimeout SG_WEBHOOK_TIMEOUT_MS: per attempt, default 10000
 * @param sseHeartbeat SG_SSE_HEARTBEAT_MS: comment line interval on SSE (and WebSocket ping), default 15000
 * @param idempotencyTtl SG_IDEMPOTENCY_TTL_SECONDS: how long a first result is remembered, default 86400
 */
public record GatewaySettings(
    String host,
    int port,
    List<String> apiKeys,
    Duration maxWait,
    int maxBodyBytes,
    int rateLimitPerMinute,
    Optional<URI> webhookUrl,
    int webhookMaxAttempts,
    Duration webhookBackoff,
    Duration webhookTimeout,
    Duration sseHeartbeat,
    Duration idempotencyTtl) {

  public GatewaySettings {
    apiKeys = List.copyOf(apiKeys);
    webhookUrl = webhookUrl == null ? Optional.empty() : webhookUrl;
    if (apiKeys.isEmpty() && !isLoopback(host)) {
      throw new ConfigException("SG_API_KEYS", "",
          "must be set when the gateway binds to the non-loopback address " + host);
    }
  }

  /** Defaults only (loopback, auth off, free port): for tests and embedding. */
  public static GatewaySettings defaults() {
    return fromEnv(Map.of("SG_HTTP_PORT", "0"));
  }

  /** Reads the settings; throws {@link ConfigException} naming the variable for a bad value. */
  public static GatewaySettings fromEnv(Map<String, String> env) {
    String host = str(env, "SG_HTTP_HOST", "127.0.0.1");
    int port = intIn(env, "SG_HTTP_PORT", 8080, 0, 65535);
    List<String> keys = Arrays.stream(str(env, "SG_API_KEYS", "").split(","))
        .map(String::trim).filter(s -> !s.isEmpty()).toList();
    Optional<URI> webhook = Optional.of(str(env, "SG_WEBHOOK_URL", "")).filter(s -> !s.isEmpty()).map(s -> {
      try {
        URI u = URI.create(s);
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
          throw new ConfigException("SG_WEBHOOK_URL", s, "must be an absolute http(s) URL");
        }
        return u;
      } catch (IllegalArgumentException e) {
        throw new ConfigException("SG_WEBHOOK_URL", s, "not a URL: " + e.getMessage());
      }
    });
    return new GatewaySettings(host, port, keys,
        Duration.ofSeconds(intIn(env, "SG_MAX_WAIT_SECONDS", 30, 0, 3600)),
        intIn(env, "SG_MAX_BODY_BYTES", 1 << 20, 1024, 64 << 20),
        intIn(env, "SG_RATE_LIMIT_PER_MINUTE", 600, 0, Integer.MAX_VALUE),
        webhook,
        intIn(env, "SG_WEBHOOK_MAX_ATTEMPTS", 5, 1, 100),
        Duration.ofMillis(intIn(env, "SG_WEBHOOK_BACKOFF_MS", 500, 1, 600_000)),
        Duration.ofMillis(intIn(env, "SG_WEBHOOK_TIMEOUT_MS", 10_000, 100, 600_000)),
        Duration.ofMillis(intIn(env, "SG_SSE_HEARTBEAT_MS", 15_000, 100, 3_600_000)),
        Duration.ofSeconds(intIn(env, "SG_IDEMPOTENCY_TTL_SECONDS", 86_400, 1, 30 * 86_400)));
  }

  public boolean authEnabled() {
    return !apiKeys.isEmpty();
  }

  public GatewaySettings withApiKeys(List<String> keys) {
    return new GatewaySettings(host, port, keys, maxWait, maxBodyBytes, rateLimitPerMinute, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl);
  }

  public GatewaySettings withRateLimitPerMinute(int n) {
    return new GatewaySettings(host, port, apiKeys, maxWait, maxBodyBytes, n, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl);
  }

  public GatewaySettings withWebhook(URI url, int maxAttempts, Duration backoff) {
    return new GatewaySettings(host, port, apiKeys, maxWait, maxBodyBytes, rateLimitPerMinute, Optional.ofNullable(url),
        maxAttempts, backoff, webhookTimeout, sseHeartbeat, idempotencyTtl);
  }

  public GatewaySettings withMaxWait(Duration d) {
    return new GatewaySettings(host, port, apiKeys, d, maxBodyBytes, rateLimitPerMinute, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl);
  }

  public GatewaySettings withMaxBodyBytes(int n) {
    return new GatewaySettings(host, port, apiKeys, maxWait, n, rateLimitPerMinute, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl);
  }

  /** Literal loopback addresses and "localhost"; never resolves other names (startup must not hang on DNS). */
  static boolean isLoopback(String host) {
    if ("localhost".equalsIgnoreCase(host)) {
      return true;
    }
    if (!host.matches("[0-9.]+") && !host.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String str(Map<String, String> env, String key, String def) {
    String v = env.get(key);
    return v == null || v.isBlank() ? def : v.trim();
  }

  private static int intIn(Map<String, String> env, String key, int def, int min, long max) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n < min || n > max) {
        throw new ConfigException(key, v, "must be between " + min + " and " + max);
      }
      return (int) n;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, v, "not an integer");
    }
  }
}
