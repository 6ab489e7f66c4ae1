package io.sgstreams.core.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The worker node's section ({@code worker.*}; the variables are in {@link ConfigSchema.Worker}).
 *
 * @param handler {@code echo}, {@code openai}, or the name or class name of a user handler factory
 * @param adminHost where /health, /ready and /metrics listen
 * @param adminPort their port; 0 picks a free port, -1 runs no admin server
 * @param toolCallTimeout how long a tool call waits for its reply
 * @param handlerTimeout one handler attempt, tool calls and LLM included
 * @param maxPendingToolCalls tool calls waiting at once; more fail fast
 * @param openAiBaseUrl the OpenAI-compatible API, without a trailing slash
 * @param openAiApiKey sent as a bearer token when present
 * @param openAiModel the model asked
 * @param openAiMaxToolRounds model → tools → model rounds before giving up
 * @param openAiSystemPrompt an optional system message
 * @param openAiTimeout one HTTP request to the model (streamed: the longest pause between chunks)
 * @param streamDelta a streamed answer is published as deltas at most this often…
 * @param streamDeltaTokens …or every this many model chunks
 * @param historyTurns earlier turns of the conversation sent to the model
 * @param historyMaxChars most characters of history sent
 * @param historyTtl how long a conversation's memory lives after its last turn
 * @param historyPrefix the prefix of the memory keys
 */
public record WorkerConfig(
    String handler,
    String adminHost,
    int adminPort,
    Duration toolCallTimeout,
    Duration handlerTimeout,
    int maxPendingToolCalls,
    String openAiBaseUrl,
    Optional<String> openAiApiKey,
    String openAiModel,
    int openAiMaxToolRounds,
    Optional<String> openAiSystemPrompt,
    Duration openAiTimeout,
    Duration streamDelta,
    int streamDeltaTokens,
    int historyTurns,
    int historyMaxChars,
    Duration historyTtl,
    String historyPrefix) {

  /** {@code adminPort} value that runs no admin server. */
  public static final int NO_ADMIN = -1;

  public WorkerConfig {
    openAiApiKey = openAiApiKey == null ? Optional.empty() : openAiApiKey.filter(s -> !s.isBlank());
    openAiSystemPrompt = openAiSystemPrompt == null ? Optional.empty() : openAiSystemPrompt.filter(s -> !s.isBlank());
  }

  public static WorkerConfig defaults() {
    return ConfigSchema.defaults().worker();
  }

  /** The same section with another admin port ({@link #NO_ADMIN}: none). */
  public WorkerConfig withAdminPort(int port) {
    return new WorkerConfig(handler, adminHost, port, toolCallTimeout, handlerTimeout, maxPendingToolCalls,
        openAiBaseUrl, openAiApiKey, openAiModel, openAiMaxToolRounds, openAiSystemPrompt, openAiTimeout, streamDelta,
        streamDeltaTokens, historyTurns, historyMaxChars, historyTtl, historyPrefix);
  }

  /** Never prints the API key. */
  @Override
  public String toString() {
    return "WorkerConfig[handler=" + handler + ", admin=" + adminHost + ":" + adminPort + ", toolCallTimeout="
        + toolCallTimeout + ", handlerTimeout=" + handlerTimeout + ", maxPendingToolCalls=" + maxPendingToolCalls
        + ", openAiBaseUrl=" + openAiBaseUrl + ", openAiModel=" + openAiModel + ", openAiApiKey="
        + (openAiApiKey.isPresent() ? "<set>" : "<unset>") + "]";
  }
}
