package io.sgstreams.core.topology;

import io.sgstreams.core.config.Topology;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Which (stream, group) pairs a role reads: what it provisions and what its monitor watches. */
public final class StreamPlan {
  private StreamPlan() {}

  public static List<StreamGroup> groupsFor(Role role, Topology t, Collection<String> platforms) {
    List<StreamGroup> out = new ArrayList<>();
    if (role.includes(Role.WORKER)) {
      out.add(new StreamGroup(t.inboundStream(), t.workerGroup()));
    }
    if (role.includes(Role.GATEWAY)) {
      for (String p : platforms) {
        out.add(new StreamGroup(t.outboundStream(p), t.gatewayGroup(p)));
      }
    }
    if (role.includes(Role.TOOLS)) {
      out.add(new StreamGroup(t.toolsStream(), t.toolsGroup()));
    }
    return List.copyOf(out);
  }
}
