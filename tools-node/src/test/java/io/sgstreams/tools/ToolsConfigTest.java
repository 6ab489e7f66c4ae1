package io.sgstreams.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ToolsConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tools section as the node reads it (the loader itself is tested in core's ConfigLoaderTest). */
class ToolsConfigTest {
  /** The tools section these variables give, as an operator would set them. */
  static ToolsConfig tools(Map<String, String> env) {
    Map<String, String> e = new HashMap<>(env);
    e.putIfAbsent("SG_NODE_ID", "tools-test");
    return ConfigLoader.load(null, e).tools();
  }

  @Test
  void defaults() {
    ToolsConfig s = tools(Map.of());
    assertEquals("127.0.0.1", s.adminHost());
    assertEquals(9090, s.adminPort());
    assertEquals(Duration.ofSeconds(10), s.toolTimeout());
    assertEquals(1000, s.calcMaxExprChars());
    assertEquals(ToolsConfig.defaults(), s);
  }

  @Test
  void readsTheEnvironment() {
    ToolsConfig s = tools(Map.of("SG_TOOLS_ADMIN_HOST", "0.0.0.0", "SG_TOOLS_ADMIN_PORT", "-1",
        "SG_TOOL_TIMEOUT_MS", "250", "SG_CALC_MAX_EXPR_CHARS", "50"));
    assertEquals(new ToolsConfig("0.0.0.0", -1, Duration.ofMillis(250), 50), s);
    assertEquals(0, tools(Map.of("SG_TOOLS_ADMIN_PORT", " 0 ")).adminPort());
    // the former shared names still work
    assertEquals(new ToolsConfig("0.0.0.0", 9191, Duration.ofSeconds(10), 1000),
        tools(Map.of("SG_ADMIN_HOST", "0.0.0.0", "SG_ADMIN_PORT", "9191")));
  }

  @Test
  void badValuesNameTheVariable() {
    ConfigException e = assertThrows(ConfigException.class, () -> tools(Map.of("SG_TOOLS_ADMIN_PORT", "http")));
    assertEquals("SG_TOOLS_ADMIN_PORT", e.key());
    assertEquals("http", e.value());
    assertEquals("SG_TOOLS_ADMIN_PORT", assertThrows(ConfigException.class,
        () -> tools(Map.of("SG_TOOLS_ADMIN_PORT", "70000"))).key());
    assertEquals("SG_TOOL_TIMEOUT_MS", assertThrows(ConfigException.class,
        () -> tools(Map.of("SG_TOOL_TIMEOUT_MS", "600001"))).key());
    ConfigException chars = assertThrows(ConfigException.class, () -> tools(Map.of("SG_CALC_MAX_EXPR_CHARS", "-5")));
    assertTrue(chars.getMessage().startsWith("SG_CALC_MAX_EXPR_CHARS='-5' (tools.calc_max_expr_chars)"), chars.getMessage());
    assertEquals("SG_TOOLS_REPLY_TTL_MS", assertThrows(ConfigException.class,
        () -> tools(Map.of("SG_TOOLS_REPLY_TTL_MS", "5"))).key());
  }
}
