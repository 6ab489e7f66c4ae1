package io.sgstreams.core.topology;

import java.util.Set;

/**
 * How one stream is capped (wire contract, "Streams and consumer groups").
 *
 * <ul>
 *   <li>A <b>work stream</b> ({@code refusesWhenFull}) is read through <i>work groups</i>: the
 *       consumers that answer clients (workers on the inbound stream, tools nodes on the tools
 *       stream, the webhook deliverer on a push platform's outbound stream). Trimming removes only
 *       entries every work group has acknowledged ({@code XADD … MINID ~ <oldest id still
 *       needed>}); when the unfinished backlog reaches {@code cap}, publishing is refused
 *       ({@link io.sgstreams.core.bus.BacklogFullException}), never trimmed away.
 *   <li>Every other stream (outbound streams tailed without a group, tool reply streams, the DLQ)
 *       keeps a plain length cap ({@code MAXLEN ~ cap}) and never refuses a write.
 *   <li>Any group that is not one of the stream's work groups is an <i>observer</i> (an ops
 *       tool, the journal): on a work stream it holds trimming back while it is less than
 *       {@code cap} entries behind, then it is overtaken (counted and logged); it never blocks
 *       publishing.
 * </ul>
 *
 * @param workGroups the groups whose unfinished entries are never trimmed
 * @param workGroupsRequired true when the work groups must exist (inbound, tools): a missing one
 *     counts as a group that has read nothing, so nothing is trimmed until it is created (at
 *     {@code 0}); false for a push platform's outbound stream, which is a work stream only while
 *     its group exists (a gateway with a webhook URL creates it)
 */
public record StreamPolicy(String stream, long cap, Set<String> workGroups, boolean workGroupsRequired, boolean refusesWhenFull) {
  /** A work stream may physically hold up to this many times its cap (acknowledged entries that sit
   * behind an older unfinished one cannot be trimmed by MINID); past that, publishing is refused too. */
  public static final int HARD_LIMIT_FACTOR = 2;

  public StreamPolicy {
    workGroups = Set.copyOf(workGroups);
  }

  public static StreamPolicy work(String stream, long cap, Set<String> groups, boolean required) {
    return new StreamPolicy(stream, cap, groups, required, true);
  }

  public static StreamPolicy capped(String stream, long cap) {
    return new StreamPolicy(stream, cap, Set.of(), false, false);
  }

  public boolean isWorkGroup(String group) {
    return workGroups.contains(group);
  }
}
