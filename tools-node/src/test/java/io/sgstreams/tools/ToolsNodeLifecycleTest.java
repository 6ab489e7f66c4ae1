package io.sgstreams.tools;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.tools.internal.ToolMetrics;
import io.sgstreams.tools.testtools.FakeCalc;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start, drain and stop; several nodes on one stream. */
class ToolsNodeLifecycleTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final SgConfig config = TestRedis.config("tools-a");
  private final Topology t = config.topology();
  private final List<AutoCloseable> buses = new ArrayList<>();
  private final List<ToolsNode> nodes = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (ToolsNode n : nodes) {
      n.shutdown().block(WAIT);
    }
    for (AutoCloseable b : buses) {
      b.close();
    }
  }

  private RedisEventBus bus(Role role, SgConfig c) {
    RedisEventBus b = TestRedis.bus(TestRedis.url(), role, c);
    buses.add(b);
    return b;
  }

  private ToolsNode node(SgConfig c, PrometheusMeterRegistry registry) {
    ToolsNode n = ToolsNode.start(bus(Role.TOOLS, c), ToolsConfig.defaults().withAdminPort(ToolsConfig.NO_ADMIN),
        registry);
    nodes.add(n);
    return n;
  }

  @Test
  void shutdownDrainsTheCallsInFlight() {
    ToolsNode node = node(config, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    assertNull(node.adminPort(), "SG_TOOLS_ADMIN_PORT=-1 runs no admin server");
    RedisEventBus worker = bus(Role.WORKER, config);
    String replyTo = t.toolsReplyStream("worker-drain");
    worker.publishToolsRequest(ToolRequest.create("slow", Map.of(), replyTo, null)).block(WAIT);
    await().atMost(WAIT).until(() -> Streams.pending(worker, t.toolsStream(), t.toolsGroup()) == 1);

    node.shutdown().block(WAIT);

    assertFalse(node.running());
    assertEquals(1, Streams.length(worker, replyTo), "the call in flight was answered before the node stopped");
    assertEquals(0, Streams.pending(worker, t.toolsStream(), t.toolsGroup()), "and acknowledged");
    assertEquals(Map.of("redis", true, "consumer", false), node.readiness().check().block(WAIT).checks());
    node.shutdown().block(WAIT); // idempotent
  }

  @Test
  void twoNodesShareTheStreamAndEveryRequestIsAnsweredOnce() {
    PrometheusMeterRegistry ra = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    PrometheusMeterRegistry rb = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    node(config, ra);
    node(config.withNodeId("tools-b"), rb);
    RedisEventBus worker = bus(Role.WORKER, config);
    String replyTo = t.toolsReplyStream("worker-many");
    int n = 60;
    for (int i = 0; i < n; i++) {
      worker.publishToolsRequest(ToolRequest.create("calc", Map.of("expr", i + "*2"), replyTo, null)
          .withCorrelationId("k" + i)).block(WAIT);
    }
    await().atMost(WAIT).until(() -> Streams.length(worker, replyTo) >= n);
    List<ToolReply> replies = Streams.all(worker, replyTo).stream()
        .map(m -> worker.codec().decode(m.getBody().get(StreamFields.DATA), ToolReply.class))
        .toList();
    assertEquals(n, replies.size());
    Set<String> correlations = replies.stream().map(ToolReply::correlationId).collect(Collectors.toSet());
    assertEquals(n, correlations.size(), "one reply per request");
    for (ToolReply r : replies) {
      long i = Long.parseLong(r.correlationId().substring(1));
      assertEquals(i * 2, r.result());
    }
    double a = calls(ra);
    double b = calls(rb);
    assertEquals(n, a + b, 0.0, "each request ran on exactly one node");
    assertEquals(0, Streams.pending(worker, t.toolsStream(), t.toolsGroup()));
  }

  @Test
  void aUserToolReusingABuiltinNameStopsTheStartup(@TempDir Path dir) throws Exception {
    Path services = dir.resolve("META-INF/services/io.sgstreams.tools.Tool");
    Files.createDirectories(services.getParent());
    Files.writeString(services, FakeCalc.class.getName() + "\n");
    ClassLoader previous = Thread.currentThread().getContextClassLoader();
    try (URLClassLoader extra = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
      Thread.currentThread().setContextClassLoader(extra);
      ToolRegistryException e = assertThrows(ToolRegistryException.class,
          () -> ToolsNode.start(bus(Role.TOOLS, config), ToolsConfig.defaults().withAdminPort(ToolsConfig.NO_ADMIN),
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
      assertTrue(e.getMessage().contains("'calc'") && e.getMessage().contains(FakeCalc.class.getName())
          && e.getMessage().contains("io.sgstreams.tools.builtin.CalcTool"), e.getMessage());
    } finally {
      Thread.currentThread().setContextClassLoader(previous);
    }
  }

  private static double calls(PrometheusMeterRegistry r) {
    return r.find(ToolMetrics.CALLS).counters().stream().mapToDouble(c -> c.count()).sum();
  }
}
