package io.sgstreams.tools.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.tools.BadArgumentsException;
import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import io.sgstreams.tools.ToolRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** How a call's outcome becomes a reply, without the stream around it. */
class ToolDispatcherTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static RedisEventBus bus;
  private static SgConfig config;

  record FnTool(String name, Function<Map<String, Object>, Mono<Object>> fn) implements Tool {
    @Override
    public String description() {
      return name;
    }

    @Override
    public Map<String, Object> parametersSchema() {
      return Map.of("type", "object");
    }

    @Override
    public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
      return fn.apply(args);
    }
  }

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ToolDispatcher dispatcher = new ToolDispatcher(bus, ToolRegistry.of(List.of(
      new FnTool("empty", a -> Mono.empty()),
      new FnTool("odd", a -> Mono.just(new Object())),
      new FnTool("inner-timeout", a -> Mono.error(new TimeoutException("upstream service timed out"))),
      new FnTool("picky", a -> Mono.error(new BadArgumentsException("n must be even"))),
      new FnTool("nulls", a -> null),
      new FnTool("never", a -> Mono.never()))),
      Duration.ofMillis(300), Duration.ofMinutes(10), new ToolMetrics(registry), Clock.systemUTC());

  @BeforeAll
  static void connect() {
    config = TestRedis.config("dispatch");
    bus = TestRedis.bus(TestRedis.url(), Role.TOOLS, config);
  }

  @AfterAll
  static void close() {
    bus.close();
  }

  private ToolReply run(String tool) {
    return dispatcher.execute(ToolRequest.create(tool, Map.of(), config.topology().toolsReplyStream("w"), null))
        .block(WAIT);
  }

  @Test
  void anEmptyResultIsASuccessWithNil() {
    ToolReply r = run("empty");
    assertTrue(r.ok());
    assertNull(r.result());
  }

  @Test
  void aResultThatCannotBeEncodedIsAToolError() {
    ToolReply r = run("odd");
    assertFalse(r.ok());
    assertEquals("tool_error", r.error().code());
    assertTrue(r.error().message().contains("cannot be sent"), r.error().message());
    assertEquals(1.0, registry.get(ToolMetrics.CALLS).tags("tool", "odd", "outcome", "tool_error").counter().count());
  }

  @Test
  void aTimeoutInsideTheToolIsAToolErrorNotOurTimeout() {
    ToolReply r = run("inner-timeout");
    assertEquals("tool_error", r.error().code());
    assertEquals("upstream service timed out", r.error().message());
  }

  @Test
  void anEmittedBadArgumentsIsBadArguments() {
    assertEquals("bad_arguments", run("picky").error().code());
    assertEquals("n must be even", run("picky").error().message());
  }

  @Test
  void aNullMonoIsAToolError() {
    assertEquals("tool_error", run("nulls").error().code());
  }

  @Test
  void theNodeDefaultTimeoutApplies() {
    ToolReply r = run("never");
    assertEquals("timeout", r.error().code());
    assertTrue(r.error().message().contains("300 ms"), r.error().message());
    assertEquals(1.0, registry.get(ToolMetrics.CALLS).tags("tool", "never", "outcome", "timeout").counter().count());
  }

  @Test
  void unknownToolsShareOneMetricTag() {
    run("a-" + System.nanoTime());
    run("b-" + System.nanoTime());
    assertEquals(2.0, registry.get(ToolMetrics.CALLS).tags("tool", "unknown", "outcome", "unknown_tool").counter().count());
  }
}
