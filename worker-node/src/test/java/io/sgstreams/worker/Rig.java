package io.sgstreams.worker;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** One worker under a namespace of its own, optionally with the fake tools node. */
final class Rig implements AutoCloseable {
  final SgConfig config;
  final RedisEventBus bus;
  final FakeTools tools;
  final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  final WorkerNode node;

  Rig(boolean withTools, Map<String, String> env) {
    String url = TestRedis.url();
    Map<String, String> withNode = new HashMap<>(env);
    withNode.putIfAbsent("SG_NODE_ID", "rig");
    // the namespace and fast consumer settings of the tests, the resilience and journal sections from env
    SgConfig fromEnv = ConfigLoader.load(null, withNode);
    config = TestRedis.config("rig").withResilience(fromEnv.resilience()).withJournal(fromEnv.journal());
    bus = TestRedis.bus(url, Role.WORKER, config);
    tools = withTools ? new FakeTools(url, config) : null;
    Map<String, String> e = new HashMap<>(Map.of("SG_WORKER_ADMIN_PORT", "-1"));
    e.putAll(env);
    node = WorkerNode.start(bus, workerConfig(e), registry);
  }

  /** The worker section these variables give, as an operator would set them. */
  static WorkerConfig workerConfig(Map<String, String> env) {
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("SG_NODE_ID", "rig");
    return ConfigLoader.load(null, e).worker();
  }

  InboundEnvelope send(String content) {
    InboundEnvelope in = InboundEnvelope.create("web", "chan", "user", content);
    bus.publishInbound(in).block(Duration.ofSeconds(5));
    return in;
  }

  @Override
  public void close() {
    node.shutdown().block(Duration.ofSeconds(10));
    if (tools != null) {
      tools.close();
    }
    bus.close();
  }
}
