package io.sgstreams.worker.failure;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConsumerSettings;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.worker.WorkerNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * One real {@link WorkerNode} (admin server off) on its own namespace of streams, with a second
 * bus the test uses to write and inspect the streams.
 */
final class FailureRig implements AutoCloseable {
  static final Duration CMD = Duration.ofSeconds(30);

  final SgConfig config;
  final RedisEventBus workerBus;
  final RedisEventBus probe;
  final WorkerNode node;

  FailureRig(String handler, UnaryOperator<ConsumerSettings> consumer) {
    String url = TestRedis.url();
    SgConfig base = TestRedis.config("failure");
    config = base.withConsumer(consumer.apply(base.consumer())).withRedisUrl(url);
    workerBus = TestRedis.bus(url, Role.WORKER, config);
    probe = TestRedis.bus(url, Role.GATEWAY, config.withNodeId("probe"));
    node = WorkerNode.start(workerBus, ConfigLoader.load(null, Map.of(
        "SG_NODE_ID", "failure-rig", "SG_WORKER_HANDLER", handler, "SG_WORKER_ADMIN_PORT", "-1")).worker(),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
  }

  String inbound() {
    return config.topology().inboundStream();
  }

  String group() {
    return config.topology().workerGroup();
  }

  String outbound() {
    return config.topology().outboundStream("web");
  }

  String dlq() {
    return config.topology().dlqStream();
  }

  long length(String stream) {
    return probe.connections().commands().xlen(stream).block(CMD);
  }

  long pending() {
    return probe.pendingCount(inbound(), group()).block(CMD);
  }

  /** Every entry of {@code stream}, read in pages so a stream with large values is never one reply. */
  List<StreamMessage<String, byte[]>> all(String stream, int page) {
    List<StreamMessage<String, byte[]>> out = new ArrayList<>();
    String from = "-";
    while (true) {
      List<StreamMessage<String, byte[]>> batch = probe.connections().commands()
          .xrange(stream, Range.create(from, "+"), Limit.from(page)).collectList().block(CMD);
      out.addAll(batch);
      if (batch.size() < page) {
        return out;
      }
      from = "(" + batch.get(batch.size() - 1).getId();
    }
  }

  /** The outbound replies, decoded. */
  List<OutboundEnvelope> replies() {
    return all(outbound(), 2000).stream()
        .map(m -> probe.codec().decode(m.getBody().get(StreamFields.DATA), OutboundEnvelope.class))
        .toList();
  }

  static String text(Map<String, byte[]> fields, String name) {
    byte[] b = fields.get(name);
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    try {
      node.shutdown().block(CMD);
    } finally {
      workerBus.close();
      probe.close();
    }
  }
}
