package io.sgstreams.tools;

import io.sgstreams.core.config.ConfigException;
import java.time.Duration;
import java.util.Map;

/**
 * The tools node's own settings (streams, groups and Redis come from core's {@code SgConfig}).
 *
 * @param adminHost {@code SG_ADMIN_HOST}, default {@code 127.0.0.1}: where /health, /ready and
 *     /metrics listen
 * @param adminPort {@code SG_ADMIN_PORT}, default 9090; 0 picks a free port; -1 runs no admin server
 * @param toolTimeout {@code SG_TOOL_TIMEOUT_MS}, default 10000: per-call timeout of tools that do
 *     not declare their own
 * @param calcMaxExprChars {@code SG_CALC_MAX_EXPR_CHARS}, default 1000: longest {@code calc} expression
 * @param replyStreamTtl {@code SG_TOOLS_REPLY_TTL_MS}, default 600000 (the variable the workers read
 *     too): expiry given to a reply stream that has none after a reply was added, so a late reply
 *     to a worker that is gone cannot recreate its stream for good. A live worker's own expiry is
 *     never changed ({@code PEXPIRE … NX}).
 */
public record ToolsSettings(String adminHost, int adminPort, Duration toolTimeout, int calcMaxExprChars,
    Duration replyStreamTtl) {
  public static final String ADMIN_HOST = "SG_ADMIN_HOST";
  public static final String ADMIN_PORT = "SG_ADMIN_PORT";
  public static final String TOOL_TIMEOUT_MS = "SG_TOOL_TIMEOUT_MS";
  public static final String CALC_MAX_EXPR_CHARS = "SG_CALC_MAX_EXPR_CHARS";
  public static final String REPLY_TTL_MS = "SG_TOOLS_REPLY_TTL_MS";

  /** No admin server. */
  public static final int NO_ADMIN = -1;
  static final long MAX_TIMEOUT_MS = 600_000;
  static final int MAX_EXPR_CHARS = 100_000;
  static final long MIN_REPLY_TTL_MS = 10_000;
  static final long MAX_REPLY_TTL_MS = 7L * 24 * 3600 * 1000;

  public ToolsSettings {
    if (adminHost == null || adminHost.isBlank()) {
      throw new ConfigException(ADMIN_HOST, adminHost, "must not be empty");
    }
    if (adminPort < NO_ADMIN || adminPort > 65535) {
      throw new ConfigException(ADMIN_PORT, Integer.toString(adminPort), "must be a port 0-65535, or -1 for none");
    }
    if (toolTimeout == null || toolTimeout.isZero() || toolTimeout.isNegative()
        || toolTimeout.toMillis() > MAX_TIMEOUT_MS) {
      throw new ConfigException(TOOL_TIMEOUT_MS, String.valueOf(toolTimeout == null ? null : toolTimeout.toMillis()),
          "must be between 1 and " + MAX_TIMEOUT_MS + " milliseconds");
    }
    if (calcMaxExprChars < 1 || calcMaxExprChars > MAX_EXPR_CHARS) {
      throw new ConfigException(CALC_MAX_EXPR_CHARS, Integer.toString(calcMaxExprChars),
          "must be between 1 and " + MAX_EXPR_CHARS);
    }
    if (replyStreamTtl == null || replyStreamTtl.toMillis() < MIN_REPLY_TTL_MS
        || replyStreamTtl.toMillis() > MAX_REPLY_TTL_MS) {
      throw new ConfigException(REPLY_TTL_MS, String.valueOf(replyStreamTtl == null ? null : replyStreamTtl.toMillis()),
          "must be between " + MIN_REPLY_TTL_MS + " and " + MAX_REPLY_TTL_MS + " milliseconds");
    }
  }

  public static ToolsSettings defaults() {
    return new ToolsSettings("127.0.0.1", 9090, Duration.ofSeconds(10), 1000, Duration.ofMinutes(10));
  }

  /** Reads the variables above from {@code env}; unset or blank means the default. */
  public static ToolsSettings fromEnv(Map<String, String> env) {
    ToolsSettings d = defaults();
    String host = get(env, ADMIN_HOST);
    int port = (int) integer(env, ADMIN_PORT, d.adminPort(), NO_ADMIN, 65535, "a port 0-65535, or -1 for none");
    long timeout = integer(env, TOOL_TIMEOUT_MS, d.toolTimeout().toMillis(), 1, MAX_TIMEOUT_MS,
        "milliseconds between 1 and " + MAX_TIMEOUT_MS);
    int chars = (int) integer(env, CALC_MAX_EXPR_CHARS, d.calcMaxExprChars(), 1, MAX_EXPR_CHARS,
        "an integer between 1 and " + MAX_EXPR_CHARS);
    long ttl = integer(env, REPLY_TTL_MS, d.replyStreamTtl().toMillis(), MIN_REPLY_TTL_MS, MAX_REPLY_TTL_MS,
        "milliseconds between " + MIN_REPLY_TTL_MS + " and " + MAX_REPLY_TTL_MS);
    return new ToolsSettings(host == null ? d.adminHost() : host, port, Duration.ofMillis(timeout), chars,
        Duration.ofMillis(ttl));
  }

  public ToolsSettings withAdminPort(int port) {
    return new ToolsSettings(adminHost, port, toolTimeout, calcMaxExprChars, replyStreamTtl);
  }

  public ToolsSettings withToolTimeout(Duration d) {
    return new ToolsSettings(adminHost, adminPort, d, calcMaxExprChars, replyStreamTtl);
  }

  public ToolsSettings withCalcMaxExprChars(int n) {
    return new ToolsSettings(adminHost, adminPort, toolTimeout, n, replyStreamTtl);
  }

  public ToolsSettings withReplyStreamTtl(Duration ttl) {
    return new ToolsSettings(adminHost, adminPort, toolTimeout, calcMaxExprChars, ttl);
  }

  private static String get(Map<String, String> env, String key) {
    String v = env.get(key);
    return v == null || v.isBlank() ? null : v.trim();
  }

  private static long integer(Map<String, String> env, String key, long dflt, long min, long max, String expected) {
    String raw = get(env, key);
    if (raw == null) {
      return dflt;
    }
    long v;
    try {
      v = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new ConfigException(key, env.get(key), "must be " + expected);
    }
    if (v < min || v > max) {
      throw new ConfigException(key, env.get(key), "must be " + expected);
    }
    return v;
  }
}
