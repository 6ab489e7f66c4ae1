package io.sgstreams.core.consume;

import java.util.List;

/** What a handler produced: replies published (in order) before the delivery is acknowledged. */
public record HandlerResult(List<Reply> replies) {
  private static final HandlerResult NONE = new HandlerResult(List.of());

  public HandlerResult {
    replies = List.copyOf(replies);
  }

  public static HandlerResult none() {
    return NONE;
  }

  public static HandlerResult of(Reply... replies) {
    return new HandlerResult(List.of(replies));
  }
}
