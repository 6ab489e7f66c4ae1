package io.sgstreams.core.config;

import java.util.Optional;

/**
 * The whole configuration of a process, every role's section included: loaded once
 * ({@link ConfigLoader}) and passed in. Immutable. Its settings, their variables and defaults
 * are listed once, in {@link ConfigSchema}.
 *
 * @param redis {@code redis.*}: which Redis (or standalone's embedded one)
 * @param nodeId {@code node.id} ({@code SG_NODE_ID}), else the host name: consumer names are {@code {role}-{nodeId}}
 * @param topology {@code streams.*} and {@code groups.*}
 * @param consumer {@code consumer.*}: how every role's consumers read, claim, acknowledge and drain
 * @param maxEnvelopeBytes {@code envelope.max_bytes}: largest envelope accepted or produced
 * @param gateway {@code gateway.*}
 * @param worker {@code worker.*}
 * @param tools {@code tools.*}
 * @param resilience {@code resilience.*}: breakers and bulkheads around outside calls
 * @param journal {@code journal.*}: the PostgreSQL journal
 * @param partitions {@code partitions.*}: partitioned streams and how workers share them
 */
public record SgConfig(
    RedisConfig redis,
    String nodeId,
    Topology topology,
    ConsumerSettings consumer,
    int maxEnvelopeBytes,
    GatewayConfig gateway,
    WorkerConfig worker,
    ToolsConfig tools,
    ResilienceConfig resilience,
    JournalConfig journal,
    PartitionsConfig partitions) {

  public SgConfig {
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("node id must not be empty");
    }
    if (maxEnvelopeBytes < 1024) {
      throw new IllegalArgumentException("max envelope bytes must be at least 1024, got " + maxEnvelopeBytes);
    }
    if (partitions.count() != topology.partitions()) {
      topology = topology.withPartitions(partitions.count());
    }
    if (topology.partitioned()) {
      topology.keys(); // refuses configured names with braces, naming the setting
    }
  }

  /** Every default, with this node id. */
  public static SgConfig defaults(String nodeId) {
    return ConfigLoader.load(null, java.util.Map.of(ConfigSchema.Node.ID.env(), nodeId));
  }

  /** {@code redis.url}; empty when unset. */
  public Optional<String> redisUrl() {
    return redis.url();
  }

  public SgConfig withRedisUrl(String url) {
    return new SgConfig(redis.withUrl(url), nodeId, topology, consumer, maxEnvelopeBytes, gateway, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withRedis(RedisConfig r) {
    return new SgConfig(r, nodeId, topology, consumer, maxEnvelopeBytes, gateway, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withNodeId(String id) {
    return new SgConfig(redis, id, topology, consumer, maxEnvelopeBytes, gateway, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withTopology(Topology t) {
    return new SgConfig(redis, nodeId, t, consumer, maxEnvelopeBytes, gateway, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withConsumer(ConsumerSettings c) {
    return new SgConfig(redis, nodeId, topology, c, maxEnvelopeBytes, gateway, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withGateway(GatewayConfig g) {
    return new SgConfig(redis, nodeId, topology, consumer, maxEnvelopeBytes, g, worker, tools, resilience, journal, partitions);
  }

  public SgConfig withWorker(WorkerConfig w) {
    return new SgConfig(redis, nodeId, topology, consumer, maxEnvelopeBytes, gateway, w, tools, resilience, journal, partitions);
  }

  public SgConfig withResilience(ResilienceConfig r) {
    return new SgConfig(redis, nodeId, topology, consumer, maxEnvelopeBytes, gateway, worker, tools, r, journal, partitions);
  }

  public SgConfig withJournal(JournalConfig j) {
    return new SgConfig(redis, nodeId, topology, consumer, maxEnvelopeBytes, gateway, worker, tools, resilience, j, partitions);
  }

  public SgConfig withTools(ToolsConfig t) {
    return new SgConfig(redis, nodeId, topology, consumer, maxEnvelopeBytes, gateway, worker, t, resilience, journal, partitions);
  }

  public SgConfig withPartitions(PartitionsConfig p) {
    return new SgConfig(redis, nodeId, topology.withPartitions(p.count()), consumer, maxEnvelopeBytes, gateway, worker, tools,
        resilience, journal, p);
  }

  /** Same configuration with {@code n} partitions (key names included). */
  public SgConfig withPartitions(int n) {
    return withPartitions(partitions.withCount(n));
  }
}
