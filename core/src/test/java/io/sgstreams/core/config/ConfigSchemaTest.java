package io.sgstreams.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The registry itself: every declared setting is listed once, well named, documented, and its default parses. */
class ConfigSchemaTest {
  @Test
  void everyDeclaredSettingIsInExactlyOneSection() throws IllegalAccessException {
    List<Setting<?>> declared = new ArrayList<>();
    for (Class<?> c : ConfigSchema.class.getDeclaredClasses()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers()) && Setting.class.isAssignableFrom(f.getType())) {
          declared.add((Setting<?>) f.get(null));
        }
      }
    }
    assertEquals(Set.copyOf(declared), Set.copyOf(ConfigSchema.settings()));
    assertEquals(declared.size(), ConfigSchema.settings().size());
  }

  @Test
  void keysAndVariablesAreUniqueWellFormedAndDescribed() {
    Set<String> keys = new HashSet<>();
    Set<String> vars = new HashSet<>();
    for (Setting<?> s : ConfigSchema.settings()) {
      assertTrue(s.key().matches("[a-z]+\\.[a-z_]+"), s.key());
      assertTrue(s.env().matches("[A-Z][A-Z0-9_]+"), s.env());
      assertTrue(keys.add(s.key()), s.key());
      assertTrue(vars.add(s.env()), s.env());
      assertFalse(s.description().isBlank() || s.description().contains("\n"), s.key());
      assertTrue(ConfigSchema.section(s.section()).orElseThrow().settings().contains(s), s.key());
      if (s.defaultValue() != null && !s.defaultValue().isEmpty()) {
        s.type().parseText(s.defaultValue());
      }
      for (String old : s.oldEnv()) {
        assertFalse(old.equals(s.env()), s.key());
      }
    }
  }

  @Test
  void sectionRecordsHaveTheSchemaDefaults() {
    SgConfig d = ConfigSchema.defaults();
    assertEquals(d.gateway(), GatewayConfig.defaults());
    assertEquals(d.worker(), WorkerConfig.defaults());
    assertEquals(d.tools(), ToolsConfig.defaults());
    assertEquals(d.topology(), Topology.defaults());
    assertEquals(d.consumer(), ConsumerSettings.defaults());
  }
}
