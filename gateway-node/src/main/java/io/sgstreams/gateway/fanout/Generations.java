package io.sgstreams.gateway.fanout;

import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One client's view of the generations of each streamed answer. A handler run again after a crash
 * or a lost claim streams a new generation ({@code attempt}) of the same answer; a client must not
 * see the two interleaved. For each {@code in_reply_to}:
 * <ul>
 *   <li>progress events ({@code delta}, {@code tool_call}) of an attempt older than the newest seen
 *       are dropped;</li>
 *   <li>the first event of a newer attempt is preceded by a {@link ChannelHistory.Superseded} item
 *       (SSE / WebSocket {@code reset} for that reply): the client discards the text it has so
 *       far;</li>
 *   <li>the final reply (any non-progress type) always passes, once per message key; progress
 *       arriving after it (a late zombie) is dropped.</li>
 * </ul>
 * Not thread-safe: one instance per feed, fed in stream order. Remembers at most
 * {@link #MAX_REPLIES} answers (least recently seen forgotten first).
 */
final class Generations {
  static final int MAX_REPLIES = 1024;

  private static final class State {
    int attempt = -1;
    boolean done;
    Set<String> finals;
  }

  private final Map<String, State> replies = new LinkedHashMap<>(64, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, State> eldest) {
      return size() > MAX_REPLIES;
    }
  };

  /** What to send for {@code item}: nothing, the item, or a reset for its reply then the item. */
  List<ChannelHistory.Item> admit(ChannelHistory.Item item) {
    if (!(item instanceof ChannelHistory.Missed m)) {
      return List.of(item);
    }
    OutboundEnvelope o = m.event().reply();
    State s = replies.computeIfAbsent(o.inReplyTo(), k -> new State());
    if (!o.isProgress()) {
      if (s.finals == null) {
        s.finals = new HashSet<>(2);
      }
      s.done = true;
      return s.finals.add(o.messageKey()) ? List.of(item) : List.of();
    }
    if (s.done) {
      return List.of();
    }
    int attempt = o.attempt() == null ? 0 : o.attempt();
    if (attempt < s.attempt) {
      return List.of();
    }
    if (attempt > s.attempt) {
      boolean hadOlder = s.attempt >= 0;
      s.attempt = attempt;
      if (hadOlder) {
        List<ChannelHistory.Item> out = new ArrayList<>(2);
        out.add(new ChannelHistory.Superseded(o.inReplyTo(), attempt));
        out.add(item);
        return out;
      }
    }
    return List.of(item);
  }
}
