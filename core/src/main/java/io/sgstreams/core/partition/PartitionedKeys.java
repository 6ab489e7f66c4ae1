package io.sgstreams.core.partition;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.Setting;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.topology.StreamKeys;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys of a partitioned topology: with {@code P > 1} partitions, partition {@code i}'s keys
 * are the topology's names followed by {@code :{t}}, {@code t} = {@link SlotTags#tag(int, int)
 * tag i of P}: {@code sg:stream:inbound:{t}}, {@code sg:stream:outbound:<platform>:{t}},
 * {@code sg:stream:dlq:{t}} and {@code sg:lease:<group>:{t}}. With {@code P = 1} every name is
 * today's, unchanged, so turning partitions off (or never on) moves no data.
 *
 * <p>The tag must be the only {@code {…}} of a key, otherwise Redis Cluster would hash whatever
 * brace pair comes first: so a configured name that contains {@code '{'} or {@code '}'} is
 * refused when {@code P > 1} (a {@link ConfigException} naming the setting), and user-supplied
 * parts go through {@link StreamKeys#safeSegment}.
 *
 * <p>Names are computed once per topology ({@link #of}); the publish path only indexes arrays.
 */
public final class PartitionedKeys {
  /** Prefix of the per-group, per-partition lease keys ({@link #leaseKey}); not a setting yet. */
  public static final String LEASE_PREFIX = "sg:lease";

  private static volatile PartitionedKeys last;

  private final Topology topology;
  private final int partitions;
  private final List<String> tags;
  private final java.util.Map<String, Integer> byTag;
  private final String[] inbound;
  private final String[] dlq;
  private final java.util.Map<String, String[]> outbound = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The keys of {@code topology} with its own partition count, cached for the last topology asked
   * for (a process has one, tests a few): building them computes {@code P} slot-aligned tags.
   */
  public static PartitionedKeys of(Topology topology) {
    PartitionedKeys k = last;
    if (k != null && k.topology == topology) {
      return k;
    }
    k = new PartitionedKeys(topology, topology.partitions());
    last = k;
    return k;
  }

  public PartitionedKeys(Topology topology, int partitions) {
    this.topology = topology;
    this.partitions = SlotTags.requirePartitions(partitions);
    if (partitions > 1) {
      noBraces(ConfigSchema.Streams.INBOUND, topology.inboundStream());
      noBraces(ConfigSchema.Streams.OUTBOUND_PREFIX, topology.outboundStreamPrefix());
      noBraces(ConfigSchema.Streams.DLQ, topology.dlqStream());
      noBraces(ConfigSchema.Groups.WORKERS, topology.workerGroup());
      noBraces(ConfigSchema.Groups.GATEWAY_PREFIX, topology.gatewayGroupPrefix());
      noBraces(ConfigSchema.Streams.PLATFORMS, String.join(",", topology.platforms()));
      this.tags = SlotTags.tags(partitions);
    } else {
      this.tags = List.of();
    }
    java.util.Map<String, Integer> m = new java.util.HashMap<>();
    for (int i = 0; i < tags.size(); i++) {
      m.put(tags.get(i), i);
    }
    this.byTag = m;
    this.inbound = new String[partitions];
    this.dlq = new String[partitions];
    for (int i = 0; i < partitions; i++) {
      inbound[i] = withTag(topology.inboundStream(), i);
      dlq[i] = withTag(topology.dlqStream(), i);
    }
  }

  /**
   * The partition of a key built here (by its trailing {@code :{tag}}); 0 when {@code P = 1}; -1
   * when {@code key} carries no tag of this topology.
   */
  public int partitionOfStream(String key) {
    if (partitions == 1) {
      return 0;
    }
    int close = key.length() - 1;
    if (close < 0 || key.charAt(close) != '}') {
      return -1;
    }
    int open = key.lastIndexOf('{');
    if (open < 1 || key.charAt(open - 1) != StreamKeys.SEPARATOR) {
      return -1;
    }
    Integer i = byTag.get(key.substring(open + 1, close));
    return i == null ? -1 : i;
  }

  public int partitions() {
    return partitions;
  }

  public Topology topology() {
    return topology;
  }

  /** Tag of partition {@code i} without braces, e.g. {@code p3.23}; empty when {@code P = 1}. */
  public String tag(int partition) {
    check(partition);
    return partitions == 1 ? "" : tags.get(partition);
  }

  /** {@code sg:stream:inbound:{t}}; {@code sg:stream:inbound} when {@code P = 1}. */
  public String inboundStream(int partition) {
    check(partition);
    return inbound[partition];
  }

  /** Every partition's inbound stream, partition 0 first. */
  public List<String> inboundStreams() {
    List<String> out = new ArrayList<>(partitions);
    for (int i = 0; i < partitions; i++) {
      out.add(inboundStream(i));
    }
    return List.copyOf(out);
  }

  /** {@code sg:stream:outbound:<platform>:{t}}; {@code sg:stream:outbound:<platform>} when {@code P = 1}. */
  public String outboundStream(String platform, int partition) {
    check(partition);
    String[] names = outbound.get(platform);
    if (names == null) {
      String base = topology.outboundStream(StreamKeys.requireNoBraces("platform", platform));
      names = new String[partitions];
      for (int i = 0; i < partitions; i++) {
        names[i] = withTag(base, i);
      }
      outbound.put(platform, names);
    }
    return names[partition];
  }

  /** {@code sg:stream:dlq:{t}}; {@code sg:stream:dlq} when {@code P = 1}. */
  public String dlqStream(int partition) {
    check(partition);
    return dlq[partition];
  }

  /**
   * {@code sg:lease:<group>:{t}}: the key whose holder reads partition {@code t} for {@code group};
   * {@code sg:lease:<group>} when {@code P = 1}. A group name contains no brace (refused like the
   * configured names; a group name may contain {@code ':'}, e.g. {@code sg:workers}).
   */
  public String leaseKey(String group, int partition) {
    if (group == null || group.isBlank()) {
      throw new IllegalArgumentException("group must not be empty");
    }
    StreamKeys.requireNoBraces("group", group);
    return withTag(LEASE_PREFIX + StreamKeys.SEPARATOR + group, partition);
  }

  private String withTag(String name, int partition) {
    check(partition);
    return partitions == 1 ? name : StreamKeys.tagged(name, tags.get(partition));
  }

  private void check(int partition) {
    if (partition < 0 || partition >= partitions) {
      throw new IllegalArgumentException("partition " + partition + " is not in 0.." + (partitions - 1));
    }
  }

  private static void noBraces(Setting<?> setting, String value) {
    if (value.indexOf('{') >= 0 || value.indexOf('}') >= 0) {
      throw new ConfigException(setting.key(), value, "must not contain '{' or '}' with partitions > 1 ("
          + setting.env() + "): Redis Cluster would take them for the key's hash tag");
    }
  }
}
