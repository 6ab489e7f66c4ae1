package io.sgstreams.core.topology;

import io.sgstreams.core.config.Topology;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Which (stream, group) pairs a role provisions: the work groups it reads through, and the work
 * groups of the work streams it publishes to (a gateway creates the workers group, a worker the
 * tools group), so that entries published before the first consumer starts are kept for it and
 * count towards the backlog. Outbound streams are tailed without a group; only a push platform
 * that this node delivers (webhook) gets its group. No group is created that nobody reads.
 */
public final class StreamPlan {
  private StreamPlan() {}

  /**
   * @param deliveredPlatforms platforms whose replies this node delivers through a group (only
   *     {@link Topology#WEBHOOK_PLATFORM} is delivered that way; others are ignored)
   */
  public static List<StreamGroup> groupsFor(Role role, Topology t, Collection<String> deliveredPlatforms) {
    List<StreamGroup> out = new ArrayList<>();
    if (role.includes(Role.WORKER) || role.includes(Role.GATEWAY)) {
      t.inboundStreams().forEach(s -> out.add(new StreamGroup(s, t.workerGroup())));
    }
    if (role.includes(Role.GATEWAY) && deliveredPlatforms.contains(Topology.WEBHOOK_PLATFORM)
        && t.platforms().contains(Topology.WEBHOOK_PLATFORM)) {
      t.outboundStreams(Topology.WEBHOOK_PLATFORM)
          .forEach(s -> out.add(new StreamGroup(s, t.gatewayGroup(Topology.WEBHOOK_PLATFORM))));
    }
    if (role.includes(Role.TOOLS) || role.includes(Role.WORKER)) {
      out.add(new StreamGroup(t.toolsStream(), t.toolsGroup()));
    }
    return List.copyOf(out);
  }
}
