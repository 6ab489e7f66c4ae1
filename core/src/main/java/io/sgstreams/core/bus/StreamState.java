package io.sgstreams.core.bus;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * One reading of a stream and its groups (XLEN, XINFO GROUPS, and the oldest pending entry of
 * each group from XPENDING): what trimming, backlog refusal and the monitor are computed from.
 *
 * @param exists false when the key does not exist (then length is 0 and there are no groups)
 * @param oldestPending per group with pending entries, its oldest pending entry id
 * @param takenAtMillis wall clock when the reading was taken
 */
public record StreamState(String stream, boolean exists, long length, List<GroupInfo> groups,
    Map<String, String> oldestPending, long takenAtMillis) {
  public StreamState {
    groups = List.copyOf(groups);
    oldestPending = Map.copyOf(oldestPending);
  }

  public static StreamState missing(String stream, long now) {
    return new StreamState(stream, false, 0, List.of(), Map.of(), now);
  }

  /** Entries the group has not acknowledged: its pending entries plus those not yet delivered
   * (the length of the stream when Redis cannot tell the lag). */
  public long unfinished(GroupInfo g) {
    OptionalLong lag = g.lag();
    return g.pending() + (lag.isPresent() ? lag.getAsLong() : length);
  }

  /** The oldest entry {@code g} still needs: its oldest pending one, else the first it has not been delivered. */
  public String oldestNeeded(GroupInfo g) {
    String next = g.lastDeliveredId() == null ? EntryIds.FIRST : EntryIds.successor(g.lastDeliveredId());
    return EntryIds.min(oldestPending.get(g.name()), next);
  }

  /** Age of the group's oldest pending entry (from its id's timestamp), or empty when nothing is pending. */
  public OptionalLong oldestPendingAgeMillis(GroupInfo g) {
    String id = oldestPending.get(g.name());
    return id == null ? OptionalLong.empty() : OptionalLong.of(Math.max(0, takenAtMillis - EntryIds.millis(id)));
  }
}
