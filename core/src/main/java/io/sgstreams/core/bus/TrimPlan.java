package io.sgstreams.core.bus;

import io.lettuce.core.XAddArgs;
import io.sgstreams.core.topology.StreamPolicy;
import java.util.ArrayList;
import java.util.List;

/**
 * How XADDs to one stream trim it, and whether they are refused, computed from a
 * {@link StreamState} reading (a pure function: see {@link #of}).
 *
 * <ul>
 *   <li>Work stream: {@code MINID ~ T}, T the oldest id any work group still needs (its oldest
 *       pending entry, else the first it has not been delivered), and any observer group less
 *       than a cap behind. A required work group that does not exist needs everything: no
 *       trimming. Refused when the largest work group backlog (pending + lag) reaches the cap,
 *       or the stream holds {@link StreamPolicy#HARD_LIMIT_FACTOR} times the cap.
 *   <li>Capped stream: {@code MAXLEN ~ cap}; never refused.
 * </ul>
 *
 * A reading may be stale: every threshold only moves forward while the groups exist, so a stale
 * MINID trims less, never more.
 *
 * @param minId MINID threshold, or null
 * @param maxLen MAXLEN cap, or 0
 * @param backlog the largest unfinished count among work groups (0 on a capped stream)
 * @param backlogGroup the work group with that backlog
 * @param overtaken observer groups more than a cap behind: trimming no longer waits for them
 */
public record TrimPlan(StreamPolicy policy, StreamState state, String minId, long maxLen, long backlog,
    String backlogGroup, List<String> overtaken) {
  public TrimPlan {
    overtaken = List.copyOf(overtaken);
  }

  public static TrimPlan of(StreamPolicy policy, StreamState state) {
    long cap = policy.cap();
    List<String> overtaken = new ArrayList<>();
    List<GroupInfo> work = new ArrayList<>();
    List<GroupInfo> observers = new ArrayList<>();
    for (GroupInfo g : state.groups()) {
      (policy.isWorkGroup(g.name()) ? work : observers).add(g);
    }
    boolean missingRequired = policy.workGroupsRequired()
        && policy.workGroups().stream().anyMatch(name -> work.stream().noneMatch(g -> g.name().equals(name)));
    boolean workStream = policy.refusesWhenFull() && (missingRequired || !work.isEmpty());
    if (!workStream) {
      for (GroupInfo g : state.groups()) {
        if (state.unfinished(g) > cap) {
          overtaken.add(g.name());
        }
      }
      return new TrimPlan(policy, state, null, cap, 0, null, overtaken);
    }
    String needed = null;
    long backlog = 0;
    String backlogGroup = null;
    for (GroupInfo g : work) {
      needed = EntryIds.min(needed, state.oldestNeeded(g));
      long u = state.unfinished(g);
      if (u >= backlog) {
        backlog = u;
        backlogGroup = g.name();
      }
    }
    if (missingRequired) {
      for (String name : policy.workGroups()) {
        if (work.stream().noneMatch(g -> g.name().equals(name))) {
          needed = EntryIds.FIRST; // a group created later starts at 0: keep everything for it
          if (state.length() >= backlog) {
            backlog = state.length();
            backlogGroup = name;
          }
        }
      }
    }
    for (GroupInfo o : observers) {
      if (state.unfinished(o) <= cap) {
        needed = EntryIds.min(needed, state.oldestNeeded(o));
      } else {
        overtaken.add(o.name());
      }
    }
    return new TrimPlan(policy, state, needed, 0, backlog, backlogGroup, overtaken);
  }

  /** This plan, also naming {@code groups} as overtaken (a reading taken before a trim that overtook them). */
  public TrimPlan overtaking(List<String> groups) {
    if (groups.isEmpty()) {
      return this;
    }
    List<String> all = new ArrayList<>(overtaken);
    groups.stream().filter(g -> !all.contains(g)).forEach(all::add);
    return new TrimPlan(policy, state, minId, maxLen, backlog, backlogGroup, all);
  }

  /** A plan that neither trims nor refuses (used until the first reading of a stream succeeds). */
  public static TrimPlan untrimmed(StreamPolicy policy, String stream) {
    return new TrimPlan(policy, StreamState.missing(stream, System.currentTimeMillis()), null, 0, 0, null, List.of());
  }

  public boolean isWorkStream() {
    return policy.refusesWhenFull() && maxLen == 0 && backlogGroup != null;
  }

  /**
   * Whether one more publish is refused, {@code sinceReading} entries having been added by this
   * node after the reading.
   */
  public boolean refuses(long sinceReading) {
    if (!isWorkStream()) {
      return false;
    }
    return backlog + sinceReading >= policy.cap()
        || state.length() + sinceReading >= (long) StreamPolicy.HARD_LIMIT_FACTOR * policy.cap();
  }

  /** Entries that may still be published before publishing is refused; {@code Long.MAX_VALUE} on a capped stream. */
  public long headroom(long sinceReading) {
    if (!isWorkStream()) {
      return Long.MAX_VALUE;
    }
    long byBacklog = policy.cap() - backlog - sinceReading;
    long byLength = (long) StreamPolicy.HARD_LIMIT_FACTOR * policy.cap() - state.length() - sinceReading;
    return Math.max(0, Math.min(byBacklog, byLength));
  }

  /** The XADD arguments carrying this plan's trimming. */
  XAddArgs addArgs() {
    XAddArgs a = new XAddArgs();
    if (minId != null) {
      a.minId(minId).approximateTrimming(true);
    } else if (maxLen > 0) {
      a.maxlen(maxLen).approximateTrimming(true);
    }
    return a;
  }

  /** The same trimming as words of an XADD inside a script: {@code MINID ~ id}, {@code MAXLEN ~ n} or nothing. */
  java.util.List<String> trimWords() {
    if (minId != null) {
      return java.util.List.of("MINID", "~", minId);
    }
    if (maxLen > 0) {
      return java.util.List.of("MAXLEN", "~", Long.toString(maxLen));
    }
    return java.util.List.of();
  }
}
