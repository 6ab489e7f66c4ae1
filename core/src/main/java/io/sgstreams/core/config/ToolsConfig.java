package io.sgstreams.core.config;

import java.time.Duration;

/**
 * The tools node's section ({@code tools.*}; the variables are in {@link ConfigSchema.Tools}).
 * The reply streams' expiry is {@link Topology#toolsReplyTtl()}, shared with the workers.
 *
 * @param adminHost where /health, /ready and /metrics listen
 * @param adminPort their port; 0 picks a free port, -1 runs no admin server
 * @param toolTimeout how long a tool that declares no timeout of its own may run
 * @param calcMaxExprChars longest {@code calc} expression
 */
public record ToolsConfig(String adminHost, int adminPort, Duration toolTimeout, int calcMaxExprChars) {
  /** {@code adminPort} value that runs no admin server. */
  public static final int NO_ADMIN = -1;

  public static ToolsConfig defaults() {
    return ConfigSchema.defaults().tools();
  }

  /** The same section with another admin port ({@link #NO_ADMIN}: none). */
  public ToolsConfig withAdminPort(int port) {
    return new ToolsConfig(adminHost, port, toolTimeout, calcMaxExprChars);
  }
}
