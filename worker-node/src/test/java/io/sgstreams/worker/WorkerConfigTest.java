package io.sgstreams.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.worker.handlers.HandlerRegistry;
import io.sgstreams.worker.handlers.ToolCommand;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The worker section as the node reads it (the loader itself is tested in core's ConfigLoaderTest). */
class WorkerConfigTest {
  @Test
  void defaults() {
    WorkerConfig s = Rig.workerConfig(Map.of());
    assertEquals("echo", s.handler());
    assertEquals("127.0.0.1", s.adminHost());
    assertEquals(9090, s.adminPort());
    assertEquals(Duration.ofSeconds(30), s.toolCallTimeout());
    assertEquals(Duration.ofSeconds(120), s.handlerTimeout());
    assertEquals("https://api.openai.com/v1", s.openAiBaseUrl());
    assertEquals("gpt-4o-mini", s.openAiModel());
    assertEquals(4, s.openAiMaxToolRounds());
    assertTrue(s.openAiApiKey().isEmpty());
  }

  @Test
  void readsTheEnvironmentAndHidesTheKey() {
    WorkerConfig s = Rig.workerConfig(Map.of("SG_WORKER_ADMIN_PORT", "-1", "SG_TOOL_CALL_TIMEOUT_MS", "250",
        "OPENAI_BASE_URL", "http://localhost:1234/v1/", "OPENAI_API_KEY", "sk-secret", "SG_OPENAI_MAX_TOOL_ROUNDS", "2"));
    assertEquals(-1, s.adminPort());
    assertEquals(Duration.ofMillis(250), s.toolCallTimeout());
    assertEquals("http://localhost:1234/v1", s.openAiBaseUrl());
    assertEquals(2, s.openAiMaxToolRounds());
    assertFalse(s.toString().contains("sk-secret"));
  }

  @Test
  void formerNamesStillSetTheWorker() {
    WorkerConfig s = Rig.workerConfig(Map.of("SG_ADMIN_PORT", "-1", "SG_TOOL_TIMEOUT_MS", "250"));
    assertEquals(-1, s.adminPort());
    assertEquals(Duration.ofMillis(250), s.toolCallTimeout());
  }

  @Test
  void badValuesNameTheVariable() {
    assertEquals("SG_WORKER_ADMIN_PORT", assertThrows(ConfigException.class,
        () -> Rig.workerConfig(Map.of("SG_WORKER_ADMIN_PORT", "http"))).key());
    assertEquals("SG_ADMIN_PORT", assertThrows(ConfigException.class,
        () -> Rig.workerConfig(Map.of("SG_ADMIN_PORT", "70000"))).key());
    assertEquals("SG_TOOL_CALL_TIMEOUT_MS", assertThrows(ConfigException.class,
        () -> Rig.workerConfig(Map.of("SG_TOOL_CALL_TIMEOUT_MS", "0"))).key());
    assertEquals("OPENAI_BASE_URL", assertThrows(ConfigException.class,
        () -> Rig.workerConfig(Map.of("OPENAI_BASE_URL", "not a url"))).key());
  }

  @Test
  void unknownHandlerIsAConfigErrorListingTheKnownOnes() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> HandlerRegistry.find("nope", getClass().getClassLoader()));
    assertEquals("SG_WORKER_HANDLER", e.key());
    assertTrue(e.getMessage().contains("echo") && e.getMessage().contains("openai") && e.getMessage().contains("upper"),
        e.getMessage());
    // by name or by class name
    assertEquals("upper", HandlerRegistry.find(UpperCaseHandlerFactory.class.getName(), getClass().getClassLoader()).name());
  }

  @Test
  void toolCommandParsing() {
    assertTrue(ToolCommand.parse("hello").isEmpty());
    assertTrue(ToolCommand.parse("/toolbox x").isEmpty());
    ToolCommand c = ToolCommand.parse("/tool calc {\"expr\":\"2*21\"}").orElseThrow();
    assertEquals("calc", c.tool());
    assertEquals(Map.of("expr", "2*21"), c.args());
    ToolCommand noArgs = ToolCommand.parse("/tool clock").orElseThrow();
    assertEquals(Map.of(), noArgs.args());
    assertTrue(noArgs.error() == null);
    assertTrue(ToolCommand.parse("/tool").orElseThrow().error().startsWith("usage"));
  }
}
