package io.sgstreams.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.tools.builtin.EchoTool;
import io.sgstreams.tools.testtools.ReverseTool;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class ToolRegistryTest {
  /** A second tool called "echo". */
  static final class OtherEcho implements Tool {
    private final String name;

    OtherEcho(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String description() {
      return "";
    }

    @Override
    public Map<String, Object> parametersSchema() {
      return Map.of();
    }

    @Override
    public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
      return Mono.empty();
    }
  }

  @Test
  void loadsBuiltinsAndServiceLoaderTools() {
    ToolRegistry r = ToolRegistry.load(ToolsConfig.defaults(), getClass().getClassLoader());
    assertEquals(List.of("boom", "calc", "clock", "echo", "list_tools", "reverse", "slow"), r.names());
    assertTrue(r.find("reverse").orElseThrow() instanceof ReverseTool);
    assertTrue(r.find("nope").isEmpty());
    assertTrue(r.find(null).isEmpty());
  }

  @Test
  void duplicateNamesNameBothClasses() {
    ToolRegistryException e = assertThrows(ToolRegistryException.class,
        () -> ToolRegistry.of(List.of(new EchoTool(), new OtherEcho("echo"))));
    assertTrue(e.getMessage().contains(EchoTool.class.getName()), e.getMessage());
    assertTrue(e.getMessage().contains(OtherEcho.class.getName()), e.getMessage());
  }

  @Test
  void invalidNamesAreRejected() {
    assertThrows(ToolRegistryException.class, () -> ToolRegistry.of(List.of(new OtherEcho("has space"))));
    assertThrows(ToolRegistryException.class, () -> ToolRegistry.of(List.of(new OtherEcho(""))));
    assertThrows(ToolRegistryException.class, () -> ToolRegistry.of(List.of(new OtherEcho("a.b"))));
    assertThrows(ToolRegistryException.class, () -> ToolRegistry.of(List.of(new OtherEcho("x".repeat(65)))));
    assertThrows(ToolRegistryException.class, () -> ToolRegistry.of(List.of(new OtherEcho(null))));
  }
}
