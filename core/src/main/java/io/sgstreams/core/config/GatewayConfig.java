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
 * @param apiKeys {@code tenant:key} (or bare) keys; with {@code auth} {@code AUTO}, empty means auth off (loopback only)
 * @param maxWait cap for {@code ?wait=}
 * @param maxBodyBytes largest request body or WebSocket frame
 * @param rateLimitPerMinute per key (or remote address); 0 = off
 * @param webhookUrl where {@code webhook} replies are POSTed; empty = no webhook consumer
 * @param webhookMaxAttempts attempts before the entry is dead-lettered
 * @param webhookBackoff first retry pause, doubled each time (at most 30 s)
 * @param webhookTimeout per attempt
 * @param sseHeartbeat SSE comment line (and WebSocket ping) interval
 * @param auth whether API requests need a key ({@link #authEnabled()})
 * @param tenantRateLimitPerMinute per tenant, all its keys together; 0 = off
 * @param adminHost where /health, /ready and /metrics listen
 * @param adminPort their port; 0 picks a free port, -1 runs no admin server
 * @param idleTimeout a connection without a complete request head for this long is closed
 * @param readTimeout longest pause between two reads of a request body
 * @param requestTimeout a request body must arrive whole within this
 * @param maxStreamsPerTenant open SSE streams + WebSockets per tenant on one node
 * @param resumeScanPerMinute outbound entries a caller's resumes may scan per minute; 0 = no budget
 * @param allowedOrigins browser origins allowed to open WebSockets besides the gateway's own ({@code *}: any)
 * @param opsKeys keys of the monitoring API on the admin port ({@code SG_OPS_KEYS}); empty = open (loopback admin only)
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
    Auth auth,
    int tenantRateLimitPerMinute,
    String adminHost,
    int adminPort,
    Duration idleTimeout,
    Duration readTimeout,
    Duration requestTimeout,
    int maxStreamsPerTenant,
    int resumeScanPerMinute,
    List<String> allowedOrigins,
    List<String> opsKeys) {

  /** {@code adminPort} value that runs no admin server. */
  public static final int NO_ADMIN = -1;

  /**
   * {@code gateway.auth} ({@code SG_AUTH}): whether API requests need a key.
   *
   * <ul>
   *   <li>{@code KEYS}: always; accepted are the keys of {@code SG_API_KEYS} (which may be empty) and the keys
   *       stored by {@code sg keys create} that are not revoked. Any bind address.
   *   <li>{@code OFF}: never; every caller is tenant {@code default}. Loopback only, and {@code SG_API_KEYS}
   *       must then be empty.
   *   <li>{@code AUTO} (the default): {@code KEYS} when {@code SG_API_KEYS} is set, else {@code OFF}. Whether
   *       keys exist in Redis is never looked at: auth cannot switch itself off when the last stored key is
   *       revoked, nor on when someone creates one.
   * </ul>
   */
  public enum Auth {
    AUTO, KEYS, OFF;

    /** {@code auto}, {@code keys} or {@code off}, any case. */
    public static Auth parse(String text) {
      return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
    }

    public String wire() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public GatewayConfig {
    apiKeys = List.copyOf(apiKeys);
    allowedOrigins = List.copyOf(allowedOrigins);
    opsKeys = List.copyOf(opsKeys);
    webhookUrl = webhookUrl == null ? Optional.empty() : webhookUrl;
    auth = auth == null ? Auth.AUTO : auth;
  }

  /** Every default (port 8080). */
  public static GatewayConfig defaults() {
    return ConfigSchema.defaults().gateway();
  }

  /** The same section with another admin port ({@link #NO_ADMIN}: none). */
  public GatewayConfig withAdminPort(int port) {
    return new GatewayConfig(host, this.port, apiKeys, maxWait, maxBodyBytes, rateLimitPerMinute, webhookUrl,
        webhookMaxAttempts, webhookBackoff, webhookTimeout, sseHeartbeat, idempotencyTtl, auth, tenantRateLimitPerMinute,
        adminHost, port, idleTimeout, readTimeout, requestTimeout, maxStreamsPerTenant, resumeScanPerMinute, allowedOrigins,
        opsKeys);
  }

  /**
   * Whether API requests need a key: {@code SG_AUTH=keys}, or {@code auto} with {@code SG_API_KEYS} set. When
   * they do, keys stored by {@code sg keys create} are accepted besides {@code SG_API_KEYS}.
   */

  public boolean authEnabled() {
    return auth == Auth.KEYS || (auth == Auth.AUTO && !apiKeys.isEmpty());
  }

  /**
   * A gateway without auth may only listen on a loopback address, and {@code SG_AUTH=off} with keys in
   * {@code SG_API_KEYS} is a contradiction.
   *
   * @throws ConfigException naming {@code SG_API_KEYS} ({@code auto}) or {@code SG_AUTH} ({@code off}) otherwise
   */
  public void requireAuthUnlessLoopback() {
    String hostVar = ConfigSchema.Gateway.HOST.env();
    String authVar = ConfigSchema.Gateway.AUTH.env();
    String keysVar = ConfigSchema.Gateway.API_KEYS.env();
    if (auth == Auth.OFF && !apiKeys.isEmpty()) {
      throw new ConfigException(authVar, auth.wire(), "turns authentication off while " + keysVar
          + " lists keys: remove " + keysVar + ", or set " + authVar + "=keys (or auto)");
    }
    if (!authEnabled() && !isLoopback(host)) {
      if (auth == Auth.OFF) {
        throw new ConfigException(authVar, auth.wire(), "is allowed only on a loopback address, and the gateway binds to "
            + host + " (" + hostVar + ")");
      }
      throw new ConfigException(keysVar, "", "must be set when the gateway binds to the non-loopback address " + host
          + " (" + hostVar + "), or set " + authVar + "=keys to accept the keys made by 'sg keys create'");
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
