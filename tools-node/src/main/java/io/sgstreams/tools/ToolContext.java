package io.sgstreams.tools;

import io.sgstreams.core.envelope.ToolRequest;
import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What a tool may know about the call it serves. Immutable.
 *
 * @param requestId the tool request's envelope id
 * @param correlationId ties the call to the conversation that caused it
 * @param platform the conversation's platform, or null
 * @param channelId the conversation's channel, or null
 * @param deadline when the caller stops waiting, or null
 * @param headers the request's free metadata (e.g. {@code traceparent})
 * @param clock the node's clock (tests substitute a fixed one)
 */
public record ToolContext(
    String requestId,
    String correlationId,
    String platform,
    String channelId,
    Instant deadline,
    Map<String, String> headers,
    Clock clock) {

  public ToolContext {
    headers = headers == null ? Map.of() : Map.copyOf(headers);
    clock = clock == null ? Clock.systemUTC() : clock;
  }

  /** The context of {@code req}. */
  public static ToolContext of(ToolRequest req, Clock clock) {
    return new ToolContext(req.id(), req.correlationId(), req.platform(), req.channelId(),
        req.deadline() == null ? null : Instant.ofEpochMilli(req.deadline()), req.headers(), clock);
  }

  /** A context for calling a tool outside any request (tests, local use). */
  public static ToolContext local() {
    return new ToolContext("local", "local", null, null, null, Map.of(), Clock.systemUTC());
  }

  public Optional<Instant> deadlineOpt() {
    return Optional.ofNullable(deadline);
  }
}
