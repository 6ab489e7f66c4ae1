package io.sgstreams.core.bus;

/**
 * A starting process found its consumer name held by another live process: two processes with the
 * same name in a group would share one pending list and take each other's entries.
 */
public final class ConsumerNameInUseException extends StreamException {
  private final String holder;

  public ConsumerNameInUseException(String consumer, String holder, java.time.Duration waited) {
    super("consumer name " + consumer + " is in use by another live process (" + holder + "; its heartbeat was renewed for "
        + waited.toMillis() + " ms while this one waited): give every process its own SG_NODE_ID",
        null, null, consumer, null, null);
    this.holder = holder;
  }

  /** What the holding process wrote into the heartbeat key (host, pid, instance). */
  public String holder() {
    return holder;
  }
}
