package io.sgstreams.core.bus;

/**
 * This node is configured with another partition count ({@code SG_PARTITIONS}) than the one the
 * deployment's streams were written with (stored in Redis by the first node). Changing the count
 * moves every conversation to another key, so it is done with every node stopped after the
 * streams are drained (README, Scale-out: changing P).
 */
public final class PartitionCountMismatchException extends IllegalStateException {
  private final String key;
  private final String stored;
  private final int configured;

  public PartitionCountMismatchException(String key, String stored, int configured) {
    super("this deployment's streams are partitioned " + stored + " ways (Redis key " + key + "), but this node has "
        + "SG_PARTITIONS=" + configured + "; set SG_PARTITIONS=" + stored + ", or change the count the documented way: "
        + "stop gateways, let workers drain every stream, stop every node, DEL " + key + ", start all with the new count");
    this.key = key;
    this.stored = stored;
    this.configured = configured;
  }

  public String key() {
    return key;
  }

  public String stored() {
    return stored;
  }

  public int configured() {
    return configured;
  }
}
