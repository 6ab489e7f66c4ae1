package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.ConfigSource;
import io.sgstreams.core.config.LoadedConfig;
import io.sgstreams.core.config.Setting;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.ValueType;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Walks the configuration tree: every setting of every role can be set in {@code streams.yaml}
 * and by its variable, reaches the tree, is shown by {@code sg config} with where it came from,
 * and is a row of the one documented table, {@code docs/configuration.md}, which this test
 * generates from {@link ConfigSchema} ({@code -Dsg.writeDocs=true} rewrites it).
 */
class ConfigTreeTest {
  static final Path DOC = Path.of("..", "docs", "configuration.md");
  static final String BEGIN = "<!-- settings table: generated from ConfigSchema by ConfigTreeTest (-Dsg.writeDocs=true); do not edit -->";
  static final String END = "<!-- end of the settings table -->";

  @TempDir Path dir;

  /** A value {@code s} accepts that is not its default. */
  static String sample(Setting<?> s) {
    for (String candidate : List.of("7", "1500", "12345", "sample", "https://example.com:8443/x", "redis://example.com:6390",
        "keys", "https://example.com:8443", "postgresql://u@example.com:5432/db", "on", "shared", "channel-lock")) {
      try {
        s.type().parseText(candidate);
      } catch (IllegalArgumentException e) {
        continue;
      }
      if (!candidate.equals(s.defaultValue())) {
        return candidate;
      }
    }
    return fail("no sample value for " + s.key());
  }

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>(Map.of("HOSTNAME", "tree"));
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  private static String sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }

  private static JsonNode row(String json, String key) throws IOException {
    for (JsonNode n : new ObjectMapper().readTree(json).get("settings")) {
      if (n.get("key").asText().equals(key)) {
        return n;
      }
    }
    return fail("sg config does not show " + key + ": " + json);
  }

  /** What sg config --json shows for {@code text} given to {@code s}. */
  private static String shownJson(Setting<?> s, String text) {
    if (s.secret()) {
      return "\"" + s.mask(text) + "\"";
    }
    if (s.type().kind() == ValueType.Kind.INTEGER) {
      return text;
    }
    if (s.type().kind() == ValueType.Kind.LIST) {
      return "[\"" + text + "\"]";
    }
    return "\"" + text + "\"";
  }

  @Test
  void everySettingIsSettableInStreamsYamlAndByItsVariableAndShownBySgConfig() throws IOException {
    SgConfig defaults = ConfigLoader.load(null, env());
    for (Setting<?> s : ConfigSchema.settings()) {
      String value = sample(s);

      Path yaml = dir.resolve(s.key() + ".yaml");
      Files.writeString(yaml, s.section() + ":\n  " + s.name() + ": \"" + value + "\"\n");
      Map<String, String> viaFile = env("SG_CONFIG", yaml.toString());
      assertNotEquals(defaults, ConfigLoader.read(viaFile).config(), s.key() + " in streams.yaml does not reach the tree");
      JsonNode fromFile = row(sg(viaFile, "config", "--json"), s.key());
      assertEquals(shownJson(s, value), fromFile.get("value").toString(), s.key());
      assertEquals("file", fromFile.get("source").asText(), s.key());
      assertEquals(yaml.toAbsolutePath().normalize().toString(), fromFile.get("from").asText(), s.key());
      assertEquals(s.env(), fromFile.get("variable").asText());

      Map<String, String> viaEnv = env(s.env(), value);
      assertNotEquals(defaults, ConfigLoader.read(viaEnv).config(), s.env() + " does not reach the tree");
      JsonNode fromEnv = row(sg(viaEnv, "config", "--json"), s.key());
      assertEquals(shownJson(s, value), fromEnv.get("value").toString(), s.key());
      assertEquals("env", fromEnv.get("source").asText(), s.key());
      assertEquals(s.env(), fromEnv.get("from").asText(), s.key());

      // the variable wins over the file, and the text form shows it with its source
      String text = sg(env("SG_CONFIG", yaml.toString(), s.env(), value), "config");
      assertTrue(Pattern.compile("^" + Pattern.quote(s.key()) + " +" + Pattern.quote(s.env()) + " +"
          + Pattern.quote(s.mask(value)) + " +\\$" + Pattern.quote(s.env()) + "$", Pattern.MULTILINE).matcher(text).find(),
          s.key() + " in\n" + text);
      for (String old : s.oldEnv()) {
        LoadedConfig viaOld = ConfigLoader.read(env(old, value));
        assertEquals(ConfigSource.env(old), viaOld.settings().stream().filter(e -> e.setting() == s).findFirst()
            .orElseThrow().source(), old + " (former name) is no longer read as " + s.key());
        assertTrue(viaOld.warnings().stream().anyMatch(w -> w.setting() == s && w.message().startsWith(old)), old);
      }
    }
  }

  @Test
  void eachRoleIsShownItsOwnSettingsAndStandaloneAll() throws IOException {
    for (Role role : Role.values()) {
      String json = sg(env(), "config", role.wire(), "--json");
      List<String> shown = new ArrayList<>();
      new ObjectMapper().readTree(json).get("settings").forEach(n -> shown.add(n.get("key").asText()));
      List<String> expected = ConfigSchema.settings().stream().filter(s -> s.appliesTo(role)).map(Setting::key).toList();
      assertEquals(expected, shown, role.wire());
      for (String section : List.of("gateway", "worker", "tools")) {
        boolean own = role == Role.STANDALONE || role.wire().equals(section);
        assertEquals(own, shown.stream().anyMatch(k -> k.startsWith(section + ".")), role.wire() + " / " + section);
      }
      assertEquals(role == Role.STANDALONE, shown.contains("redis.embedded_port"), role.wire());
    }
  }

  @Test
  void secretsAreMaskedBySgConfig() {
    String text = sg(env("REDIS_URL", "redis://user:hunter2@h:6379", "SG_API_KEYS", "key-a,key-b",
        "OPENAI_API_KEY", "sk-123", "SG_WEBHOOK_URL", "https://bot:tok3n@hooks.example.com/x"), "config");
    for (String secret : List.of("hunter2", "key-a", "key-b", "sk-123", "tok3n")) {
      assertFalse(text.contains(secret), secret + " shown:\n" + text);
    }
    assertTrue(text.contains("redis://user:****@h:6379"), text);
    assertTrue(text.contains("https://bot:****@hooks.example.com/x"), text);
  }

  @Test
  void everySettingIsARowOfTheOneDocumentedTable() throws IOException {
    String doc = Files.readString(DOC);
    int begin = doc.indexOf(BEGIN);
    int end = doc.indexOf(END);
    assertTrue(begin >= 0 && end > begin, DOC + " lacks the generated table's markers");
    String expected = table();
    String actual = doc.substring(begin + BEGIN.length() + 1, end);
    if (!expected.equals(actual)) {
      if (Boolean.getBoolean("sg.writeDocs")) {
        Files.writeString(DOC, doc.substring(0, begin + BEGIN.length() + 1) + expected + doc.substring(end));
        return;
      }
      assertEquals(expected, actual, DOC + " is out of date: run this test with -Dsg.writeDocs=true");
    }
    for (Setting<?> s : ConfigSchema.settings()) {
      assertTrue(actual.contains("| `" + s.key() + "` | `" + s.env() + "` |"), s.key());
    }
    // and the README points at it instead of keeping a table of its own
    String readme = Files.readString(Path.of("..", "README.md"));
    assertTrue(readme.contains("docs/configuration.md"), "README links docs/configuration.md");
    assertFalse(readme.contains("| `consumer.read_count` |"), "README keeps a second settings table");
  }

  /** The table, one row per setting, in section order. */
  static String table() {
    StringBuilder b = new StringBuilder();
    b.append("| `streams.yaml` | environment | default | values | meaning |\n");
    b.append("|---|---|---|---|---|\n");
    for (Setting<?> s : ConfigSchema.settings()) {
      String note = s.defaultNote() == null ? null : s.defaultNote().contains("{") ? "`" + s.defaultNote() + "`" : s.defaultNote();
      String dflt = s.defaultValue() == null ? (note == null ? "unset" : "unset: " + note)
          : s.defaultValue().isEmpty() ? "empty" : "`" + s.defaultValue() + "`";
      StringBuilder meaning = new StringBuilder(s.description());
      if (!s.appliesTo(Role.GATEWAY) && !s.appliesTo(Role.WORKER) && !s.appliesTo(Role.TOOLS)) {
        meaning.append(". Standalone only");
      }
      if (!s.oldEnv().isEmpty()) {
        meaning.append(". Formerly ").append(String.join(", ", s.oldEnv().stream().map(o -> "`" + o + "`").toList()));
      }
      if (s.secret()) {
        meaning.append(". Secret: masked by `sg config`");
      }
      b.append("| `").append(s.key()).append("` | `").append(s.env()).append("` | ").append(dflt).append(" | ")
          .append(s.type().values()).append(" | ").append(meaning.toString().replace("|", "\\|")).append(" |\n");
    }
    return b.toString();
  }
}
