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
 * @param idempotencyTtl how long an {@code Idempotency-Key} stays bound to its message and reply
 * @param adminHost where /health, /ready and /metrics listen
 * @param adminPort their port; 0 picks a free port, -1 runs no admin server
 * @param idleTimeout a connection without a complete request head for this long is closed
 * @param readTimeout longest pause between two reads of a request body
 * @param requestTimeout a request body must arrive whole within this
 * @param maxStreamsPerTenant open SSE streams + WebSockets per tenant on one node
 * @param resumeScanPerMinute outbound entries a caller's resumes may scan per minute; 0 = no budget
 * @param allowedOrigins browser origins allowed to open WebSockets besides the gateway's own ({@code *}: any)
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
    Duration idempotencyTtl,
    String adminHost,
    int adminPort,
    Duration idleTimeout,
    Duration readTimeout,
    Duration requestTimeout,
    int maxStreamsPerTenant,
    int resumeScanPerMinute,
    List<String> allowedOrigins) {

  /** {@code adminPort} value that runs no admin server. */
  public static final int NO_ADMIN = -1;

  public GatewayConfig {
    apiKeys = List.copyOf(apiKeys);
    allowedOrigins = List.copyOf(allowedOrigins);
    webhookUrl = webhookUrl == null ? Optional.empty() : webhookUrl;
  }

  /** Every default (port 8080). */
  public static GatewayConfig defaults() {
    return ConfigSchema.defaults().gateway();
  }

  /** The same section with another admin port ({@link #NO_ADMIN}: none). */
  public GatewayConfig withAdminPort(int port) {
    return new GatewayConfig(host, this.port, apiKeys, maxWait, maxBodyBytes, rateLimitPerMinute, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl, adminHost, port, idleTimeout,
        readTimeout, requestTimeout, maxStreamsPerTenant, resumeScanPerMinute, allowedOrigins);
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

  /** Never prints the API keys or the webhook URL (it may carry credentials). */
  @Override
  public String toString() {
    return "GatewayConfig[" + host + ":" + port + ", admin=" + adminHost + ":" + adminPort + ", apiKeys="
        + (apiKeys.isEmpty() ? "<none>" : "<" + apiKeys.size() + " set>") + ", maxWait=" + maxWait + ", maxBodyBytes="
        + maxBodyBytes + ", rateLimitPerMinute=" + rateLimitPerMinute + ", webhookUrl="
        + (webhookUrl.isPresent() ? "<set>" : "<unset>") + ", idleTimeout=" + idleTimeout + ", readTimeout=" + readTimeout
        + ", requestTimeout=" + requestTimeout + ", maxStreamsPerTenant=" + maxStreamsPerTenant + ", resumeScanPerMinute="
        + resumeScanPerMinute + ", allowedOrigins=" + allowedOrigins + "]";
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
