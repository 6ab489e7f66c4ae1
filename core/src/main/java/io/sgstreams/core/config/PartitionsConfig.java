package io.sgstreams.core.config;

import java.time.Duration;
import java.util.Locale;

/**
 * The {@code partitions} section: how many partitions each stream has and how workers share them
 * (docs/wire-contract.md, Partitions; README, Scale-out).
 *
 * @param count {@code SG_PARTITIONS}: P; 1 = one key per stream, today's names
 * @param assignment {@code SG_PARTITION_ASSIGNMENT}: who reads which partition ({@link Assignment})
 * @param leaseTtl {@code SG_LEASE_TTL_MS}: how long a worker's lease on a partition lives unless renewed (every third)
 * @param publishReplicas {@code SG_PUBLISH_REPLICAS}: a gateway's publish waits for this many replicas
 *     ({@code WAIT}) before it answers 2xx; 0 = don't wait
 * @param ordering {@code SG_ORDERING}: how per-conversation order is kept with shared assignment ({@link Ordering})
 */
public record PartitionsConfig(int count, Assignment assignment, Duration leaseTtl, int publishReplicas, Ordering ordering) {

  /** How entries of one conversation are kept in order across worker pods. */
  public enum Ordering {
    /**
     * Each worker handles a conversation's entries one at a time in stream order; across workers
     * order holds only with leased partitions (one reader per partition).
     */
    LOCAL,
    /**
     * With shared assignment: a conversation's entries are handled one at a time in stream order
     * across every worker. Each new entry gets a ticket in its conversation's queue when it is read
     * (in the read script, same slot); an entry runs only at the head of that queue, others wait.
     */
    CHANNEL_LOCK;

    public static Ordering parse(String text) {
      return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    public String wire() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  public PartitionsConfig(int count, Assignment assignment, Duration leaseTtl, int publishReplicas) {
    this(count, assignment, leaseTtl, publishReplicas, Ordering.LOCAL);
  }

  /** Who reads which partition. */
  public enum Assignment {
    /** {@link #LEASE} when {@code P > 1}, {@link #SHARED} when {@code P = 1}. */
    AUTO,
    /**
     * One worker per partition at a time, holding a lease ({@code SET NX PX}, renewed); replies and
     * acks are fenced by the lease, so order per conversation holds across pods.
     */
    LEASE,
    /** Every worker reads every partition through the group (order per conversation within a pod only). */
    SHARED;

    public static Assignment parse(String text) {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }

    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public PartitionsConfig {
    if (count < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, got " + count);
    }
    if (leaseTtl == null || leaseTtl.toMillis() < 300) {
      throw new IllegalArgumentException("lease TTL must be at least 300 ms, got " + leaseTtl);
    }
    if (count == 1 && assignment == Assignment.LEASE) {
      throw new IllegalArgumentException("SG_PARTITION_ASSIGNMENT=lease needs SG_PARTITIONS > 1 (with one partition a "
          + "lease would let one worker read everything; its keys carry no hash tag, so a cluster could not run its scripts)");
    }
    if (ordering == null) {
      ordering = Ordering.LOCAL;
    }
    if (ordering == Ordering.CHANNEL_LOCK && (assignment == Assignment.LEASE || (assignment == Assignment.AUTO && count > 1))) {
      throw new IllegalArgumentException("SG_ORDERING=channel-lock is for SG_PARTITION_ASSIGNMENT=shared (every worker reads "
          + "every partition); leased partitions already keep each conversation in order across workers");
    }
    if (publishReplicas < 0) {
      throw new IllegalArgumentException("publish replicas must not be negative, got " + publishReplicas);
    }
  }

  /** Whether workers take partitions by lease (the resolved {@link Assignment#AUTO}). */
  public boolean leased() {
    return assignment == Assignment.LEASE || (assignment == Assignment.AUTO && count > 1);
  }

  /** Whether conversations are ordered across workers by tickets ({@link Ordering#CHANNEL_LOCK}). */
  public boolean channelLock() {
    return ordering == Ordering.CHANNEL_LOCK;
  }

  /** How often a held lease is renewed: a third of its TTL. */
  public Duration renewInterval() {
    return leaseTtl.dividedBy(3);
  }

  public PartitionsConfig withCount(int n) {
    return new PartitionsConfig(n, assignment, leaseTtl, publishReplicas, ordering);
  }

  public PartitionsConfig withAssignment(Assignment a) {
    return new PartitionsConfig(count, a, leaseTtl, publishReplicas, ordering);
  }

  public PartitionsConfig withLeaseTtl(Duration ttl) {
    return new PartitionsConfig(count, assignment, ttl, publishReplicas, ordering);
  }

  public PartitionsConfig withPublishReplicas(int n) {
    return new PartitionsConfig(count, assignment, leaseTtl, n, ordering);
  }

  public PartitionsConfig withOrdering(Ordering o) {
    return new PartitionsConfig(count, assignment, leaseTtl, publishReplicas, o);
  }
}
