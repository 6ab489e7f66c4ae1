package io.sgstreams.core.topology;

import java.util.Locale;

/** What a node does; decides which groups it provisions and its consumer names. */
public enum Role {
  GATEWAY, WORKER, TOOLS, STANDALONE;

  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Role parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new IllegalArgumentException("unknown role '" + s + "' (gateway, worker, tools, standalone)");
    }
  }

  public boolean includes(Role r) {
    return this == r || this == STANDALONE;
  }
}
