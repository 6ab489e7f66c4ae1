package io.sgstreams.core.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The gateway node's section ({@code gateway.*} in {@code streams.yaml}; the variables are in
 * {@link ConfigSchema.Gateway}).
 *
 * @param host bind address
 * @param port HTTP port; 0 picks a free one
 * @param apiKeys accepted keys; empty means auth off, allowed on a loopback address only
 * @param maxWait cap for {@code ?wait=}
 * @param maxBodyBytes largest request body or WebSocket frame
 * @param rateLimitPerMinute per key (or remote address); 0 = off
 * @param webhookUrl where {@code webhook} replies are POSTed; empty = no webhook consumer
 * @param webhookMaxAttempts attempts before the entry is dead-lettered
 * @param webhookBackoff first retry pause, doubled each time (at most 30 s)
 * @param webhookTimeout per attempt
 * @param sseHeartbeat SSE comment line (and WebSocket ping) interval
 * @param idempotencyTtl how long a first result is remembered for {@code Idempotency-Key}
 */
public record GatewayConfig(
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

  public GatewayConfig {
    apiKeys = List.copyOf(apiKeys);
    webhookUrl = webhookUrl == null ? Optional.empty() : webhookUrl;
  }

  /** Every default (port 8080). */
  public static GatewayConfig defaults() {
    return ConfigSchema.defaults().gateway();
  }

  public boolean authEnabled() {
    return !apiKeys.isEmpty();
  }

  /**
   * A gateway without API keys may only listen on a loopback address.
   *
   * @throws ConfigException naming {@code SG_API_KEYS} otherwise
   */
  public void requireAuthUnlessLoopback() {
    if (!authEnabled() && !isLoopback(host)) {
      throw new ConfigException(ConfigSchema.Gateway.API_KEYS.env(), "",
          "must be set when the gateway binds to the non-loopback address " + host + " (" + ConfigSchema.Gateway.HOST.env() + ")");
    }
  }

  /** Literal loopback addresses and "localhost"; never resolves other names (startup must not hang on DNS). */
  public static boolean isLoopback(String host) {
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
}
