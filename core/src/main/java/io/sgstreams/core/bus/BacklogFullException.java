package io.sgstreams.core.bus;

import java.time.Duration;

/**
 * Publishing to a work stream was refused: the entries its work groups have not finished
 * reached the stream's cap, and trimming never removes unfinished work. Nothing was added.
 * Transient: retry after {@link #retryAfter()} (the gateway answers {@code 503 backlog_full}
 * with {@code Retry-After}; a tool call fails fast with {@code tools_busy}).
 */
public final class BacklogFullException extends StreamException {
  private final long backlog;
  private final long cap;
  private final Duration retryAfter;

  public BacklogFullException(String stream, String group, long backlog, long cap, Duration retryAfter) {
    this("backlog full: " + backlog + " entries not yet handled by group " + group + " (cap " + cap + ")",
        stream, group, backlog, cap, retryAfter);
  }

  /** Refused with another reason (e.g. the stream physically holds twice its cap behind an old unfinished entry). */
  public BacklogFullException(String message, String stream, String group, long backlog, long cap, Duration retryAfter) {
    super(message, stream, group, null, null, null);
    this.backlog = backlog;
    this.cap = cap;
    this.retryAfter = retryAfter;
  }

  /** Unfinished entries when the publish was refused (an estimate between two refreshes). */
  public long backlog() {
    return backlog;
  }

  public long cap() {
    return cap;
  }

  public Duration retryAfter() {
    return retryAfter;
  }
}
