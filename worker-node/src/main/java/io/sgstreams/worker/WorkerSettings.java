package io.sgstreams.worker;

import io.sgstreams.core.config.ConfigException;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The worker node's own settings (stream names come from {@code SgConfig.topology()}). Immutable;
 * built once from the environment by {@link #fromEnv(Map)}.
 *
 * @param handler {@code SG_WORKER_HANDLER}: {@code echo} (default), {@code openai}, or the name or
 *     class name of a user {@link HandlerFactory} found by ServiceLoader
 * @param adminHost {@code SG_ADMIN_HOST} (default 127.0.0.1)
 * @param adminPort {@code SG_ADMIN_PORT} (default 9090; 0 picks a free port; -1 runs no admin server)
 * @param toolTimeout {@code SG_TOOL_TIMEOUT_MS} (default 30000): how long a tool call waits for its reply
 * @param handlerTimeout {@code SG_HANDLER_TIMEOUT_MS} (default 120000): one handler attempt, tool calls and LLM included
 * @param maxPendingToolCalls {@code SG_TOOLS_MAX_PENDING} (default 10000): tool calls waiting at once; more fail fast
 * @param replyStreamTtl {@code SG_TOOLS_REPLY_TTL_MS} (default 600000): expiry of this worker's reply stream,
 *     refreshed every TTL/10 while the worker lives
 * @param openAiBaseUrl {@code OPENAI_BASE_URL} (default https://api.openai.com/v1)
 * @param openAiApiKey {@code OPENAI_API_KEY} (optional: local OpenAI-compatible servers may need none)
 * @param openAiModel {@code OPENAI_MODEL} (default gpt-4o-mini)
 * @param openAiMaxToolRounds {@code SG_OPENAI_MAX_TOOL_ROUNDS} (default 4)
 * @param openAiSystemPrompt {@code SG_OPENAI_SYSTEM_PROMPT} (optional)
 * @param openAiTimeout {@code SG_OPENAI_TIMEOUT_MS} (default 60000): one HTTP request to the model
 */
public record WorkerSettings(
    String handler,
    String adminHost,
    int adminPort,
    Duration toolTimeout,
    Duration handlerTimeout,
    int maxPendingToolCalls,
    Duration replyStreamTtl,
    String openAiBaseUrl,
    Optional<String> openAiApiKey,
    String openAiModel,
    int openAiMaxToolRounds,
    Optional<String> openAiSystemPrompt,
    Duration openAiTimeout) {

  public static final String HANDLER = "SG_WORKER_HANDLER";
  public static final String ADMIN_HOST = "SG_ADMIN_HOST";
  public static final String ADMIN_PORT = "SG_ADMIN_PORT";
  public static final String TOOL_TIMEOUT = "SG_TOOL_TIMEOUT_MS";
  public static final String HANDLER_TIMEOUT = "SG_HANDLER_TIMEOUT_MS";
  public static final String MAX_PENDING = "SG_TOOLS_MAX_PENDING";
  public static final String REPLY_TTL = "SG_TOOLS_REPLY_TTL_MS";
  public static final String OPENAI_BASE_URL = "OPENAI_BASE_URL";
  public static final String OPENAI_API_KEY = "OPENAI_API_KEY";
  public static final String OPENAI_MODEL = "OPENAI_MODEL";
  public static final String OPENAI_MAX_TOOL_ROUNDS = "SG_OPENAI_MAX_TOOL_ROUNDS";
  public static final String OPENAI_SYSTEM_PROMPT = "SG_OPENAI_SYSTEM_PROMPT";
  public static final String OPENAI_TIMEOUT = "SG_OPENAI_TIMEOUT_MS";

  public WorkerSettings {
    openAiApiKey = openAiApiKey == null ? Optional.empty() : openAiApiKey.filter(s -> !s.isBlank());
    openAiSystemPrompt = openAiSystemPrompt == null ? Optional.empty() : openAiSystemPrompt.filter(s -> !s.isBlank());
  }

  /** Every default. */
  public static WorkerSettings defaults() {
    return fromEnv(Map.of());
  }

  /**
   * Reads the variables above; unset or blank means the default.
   *
   * @throws ConfigException naming the variable for a value that cannot be used
   */
  public static WorkerSettings fromEnv(Map<String, String> env) {
    String handler = str(env, HANDLER, "echo");
    String adminHost = str(env, ADMIN_HOST, "127.0.0.1");
    int adminPort = integer(env, ADMIN_PORT, 9090, -1, 65535);
    Duration toolTimeout = millis(env, TOOL_TIMEOUT, 30_000);
    Duration handlerTimeout = millis(env, HANDLER_TIMEOUT, 120_000);
    int maxPending = integer(env, MAX_PENDING, 10_000, 1, 1_000_000);
    Duration ttl = millis(env, REPLY_TTL, 600_000);
    if (ttl.toMillis() < 10_000) {
      throw new ConfigException(REPLY_TTL, env.get(REPLY_TTL), "must be at least 10000 ms");
    }
    String baseUrl = str(env, OPENAI_BASE_URL, "https://api.openai.com/v1");
    try {
      URI u = URI.create(baseUrl);
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
        throw new IllegalArgumentException("not an absolute http(s) URL");
      }
    } catch (IllegalArgumentException e) {
      throw new ConfigException(OPENAI_BASE_URL, baseUrl, "must be an http(s) URL such as https://api.openai.com/v1");
    }
    while (baseUrl.endsWith("/")) {
      baseUrl = baseUrl.substring(0, baseUrl.length() - 1);
    }
    return new WorkerSettings(handler, adminHost, adminPort, toolTimeout, handlerTimeout, maxPending, ttl,
        baseUrl, Optional.ofNullable(env.get(OPENAI_API_KEY)), str(env, OPENAI_MODEL, "gpt-4o-mini"),
        integer(env, OPENAI_MAX_TOOL_ROUNDS, 4, 0, 64), Optional.ofNullable(env.get(OPENAI_SYSTEM_PROMPT)),
        millis(env, OPENAI_TIMEOUT, 60_000));
  }

  public WorkerSettings withHandler(String h) {
    return new WorkerSettings(h, adminHost, adminPort, toolTimeout, handlerTimeout, maxPendingToolCalls,
        replyStreamTtl, openAiBaseUrl, openAiApiKey, openAiModel, openAiMaxToolRounds, openAiSystemPrompt, openAiTimeout);
  }

  public WorkerSettings withAdminPort(int port) {
    return new WorkerSettings(handler, adminHost, port, toolTimeout, handlerTimeout, maxPendingToolCalls,
        replyStreamTtl, openAiBaseUrl, openAiApiKey, openAiModel, openAiMaxToolRounds, openAiSystemPrompt, openAiTimeout);
  }

  public WorkerSettings withToolTimeout(Duration d) {
    return new WorkerSettings(handler, adminHost, adminPort, d, handlerTimeout, maxPendingToolCalls,
        replyStreamTtl, openAiBaseUrl, openAiApiKey, openAiModel, openAiMaxToolRounds, openAiSystemPrompt, openAiTimeout);
  }

  /** Never prints the API key. */
  @Override
  public String toString() {
    return "WorkerSettings[handler=" + handler + ", admin=" + adminHost + ":" + adminPort + ", toolTimeout=" + toolTimeout
        + ", handlerTimeout=" + handlerTimeout + ", openAiBaseUrl=" + openAiBaseUrl + ", openAiModel=" + openAiModel
        + ", openAiApiKey=" + (openAiApiKey.isPresent() ? "<set>" : "<unset>") + "]";
  }

  private static String str(Map<String, String> env, String key, String def) {
    String v = env.get(key);
    return v == null || v.isBlank() ? def : v.trim();
  }

  private static int integer(Map<String, String> env, String key, int def, int min, int max) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return def;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        throw new ConfigException(key, v, "must be between " + min + " and " + max);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new ConfigException(key, v, "must be an integer");
    }
  }

  private static Duration millis(Map<String, String> env, String key, long def) {
    String v = env.get(key);
    if (v == null || v.isBlank()) {
      return Duration.ofMillis(def);
    }
    try {
      long n = Long.parseLong(v.trim());
      if (n <= 0) {
        throw new ConfigException(key, v, "must be a positive number of milliseconds");
      }
      return Duration.ofMillis(n);
    } catch (NumberFormatException e) {
      throw new ConfigException(key, v, "must be a whole number of milliseconds");
    }
  }
}
