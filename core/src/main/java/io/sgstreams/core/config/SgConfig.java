package io.sgstreams.core.config;

import java.util.Optional;

/**
 * The whole configuration: loaded once ({@link ConfigLoader}) and passed in. Immutable.
 *
 * @param redisUrl {@code REDIS_URL}; empty when unset (standalone mode then starts an embedded Redis)
 * @param nodeId {@code SG_NODE_ID}, else the host name: consumer names are {@code {role}-{nodeId}}
 * @param maxEnvelopeBytes largest envelope accepted or produced
 */
public record SgConfig(
    Optional<String> redisUrl,
    String nodeId,
    Topology topology,
    ConsumerSettings consumer,
    int maxEnvelopeBytes) {

  public SgConfig {
    redisUrl = redisUrl == null ? Optional.empty() : redisUrl.filter(s -> !s.isBlank());
    if (nodeId == null || nodeId.isBlank()) {
      throw new IllegalArgumentException("node id must not be empty");
    }
    if (maxEnvelopeBytes < 1024) {
      throw new IllegalArgumentException("max envelope bytes must be at least 1024, got " + maxEnvelopeBytes);
    }
  }

  public static SgConfig defaults(String nodeId) {
    return new SgConfig(Optional.empty(), nodeId, Topology.defaults(), ConsumerSettings.defaults(), 1 << 20);
  }

  public SgConfig withRedisUrl(String url) {
    return new SgConfig(Optional.ofNullable(url), nodeId, topology, consumer, maxEnvelopeBytes);
  }

  public SgConfig withNodeId(String id) {
    return new SgConfig(redisUrl, id, topology, consumer, maxEnvelopeBytes);
  }

  public SgConfig withTopology(Topology t) {
    return new SgConfig(redisUrl, nodeId, t, consumer, maxEnvelopeBytes);
  }

  public SgConfig withConsumer(ConsumerSettings c) {
    return new SgConfig(redisUrl, nodeId, topology, c, maxEnvelopeBytes);
  }
}
