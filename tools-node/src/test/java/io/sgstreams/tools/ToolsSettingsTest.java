package io.sgstreams.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ToolsSettingsTest {
  @Test
  void defaults() {
    ToolsSettings s = ToolsSettings.fromEnv(Map.of());
    assertEquals("127.0.0.1", s.adminHost());
    assertEquals(9090, s.adminPort());
    assertEquals(Duration.ofSeconds(10), s.toolTimeout());
    assertEquals(1000, s.calcMaxExprChars());
    assertEquals(Duration.ofMinutes(10), s.replyStreamTtl());
  }

  @Test
  void readsTheEnvironment() {
    ToolsSettings s = ToolsSettings.fromEnv(Map.of("SG_ADMIN_HOST", "0.0.0.0", "SG_ADMIN_PORT", "-1",
        "SG_TOOL_TIMEOUT_MS", "250", "SG_CALC_MAX_EXPR_CHARS", "50", "SG_TOOLS_REPLY_TTL_MS", "60000"));
    assertEquals(new ToolsSettings("0.0.0.0", -1, Duration.ofMillis(250), 50, Duration.ofMinutes(1)), s);
    assertEquals(0, ToolsSettings.fromEnv(Map.of("SG_ADMIN_PORT", " 0 ")).adminPort());
  }

  @Test
  void badValuesNameTheVariable() {
    ConfigException e = assertThrows(ConfigException.class, () -> ToolsSettings.fromEnv(Map.of("SG_ADMIN_PORT", "http")));
    assertEquals("SG_ADMIN_PORT", e.key());
    assertEquals("http", e.value());
    assertEquals("SG_ADMIN_PORT", assertThrows(ConfigException.class,
        () -> ToolsSettings.fromEnv(Map.of("SG_ADMIN_PORT", "70000"))).key());
    assertEquals("SG_TOOL_TIMEOUT_MS", assertThrows(ConfigException.class,
        () -> ToolsSettings.fromEnv(Map.of("SG_TOOL_TIMEOUT_MS", "0"))).key());
    ConfigException chars = assertThrows(ConfigException.class,
        () -> ToolsSettings.fromEnv(Map.of("SG_CALC_MAX_EXPR_CHARS", "-5")));
    assertTrue(chars.getMessage().contains("SG_CALC_MAX_EXPR_CHARS='-5'"), chars.getMessage());
    assertEquals("SG_TOOLS_REPLY_TTL_MS", assertThrows(ConfigException.class,
        () -> ToolsSettings.fromEnv(Map.of("SG_TOOLS_REPLY_TTL_MS", "5"))).key());
  }
}
