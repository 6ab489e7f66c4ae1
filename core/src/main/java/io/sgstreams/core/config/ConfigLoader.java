package io.sgstreams.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Loads {@link SgConfig} once, for every role: the defaults of {@link ConfigSchema}, then
 * {@code streams.yaml}, then environment variables. Any value that cannot be used is a
 * {@link ConfigException} naming the key, the variable and the value; unknown YAML keys are
 * errors too, so a typo never silently falls back to a default. An empty value (a blank variable,
 * {@code key: ""} or {@code key:}) means unset. A setting's former variable names are read when its
 * variable is unset, with a warning ({@link LoadedConfig#warnings()}).
 *
 * <p>The process environment is never read here: the launcher's entry point hands it in. The YAML
 * file is {@code $SG_CONFIG} if set, else {@code ./streams.yaml} if present.
 */
public final class ConfigLoader {
  /** streams.yaml is read with Jackson's YAML factory (JSON goes through core's one {@code json.Json} mapper). */
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** The variable naming the YAML file. */
  public static final String CONFIG_FILE_ENV = "SG_CONFIG";

  private record Raw(String text, ConfigSource source) {}

  private ConfigLoader() {}

  /** With the YAML file {@code env} names ({@link #configFile(Map)}). */
  public static LoadedConfig read(Map<String, String> env) {
    return read(configFile(env).orElse(null), env);
  }

  /** {@code $SG_CONFIG} when set, else {@code ./streams.yaml} when it exists. */
  public static Optional<Path> configFile(Map<String, String> env) {
    String file = env.get(CONFIG_FILE_ENV);
    if (file != null && !file.isBlank()) {
      return Optional.of(Path.of(file.trim()));
    }
    Path here = Path.of("streams.yaml");
    return Files.exists(here) ? Optional.of(here) : Optional.empty();
  }

  /** The tree only. */
  public static SgConfig load(Path yaml, Map<String, String> env) {
    return read(yaml, env).config();
  }

  /**
   * @param yaml a streams.yaml to read, or null for none
   * @param env environment variables (only the settings' variables, {@code HOSTNAME} and {@code SG_CONFIG} are read)
   */
  public static LoadedConfig read(Path yaml, Map<String, String> env) {
    Map<String, Raw> raw = new LinkedHashMap<>();
    for (Setting<?> s : ConfigSchema.settings()) {
      if (s.defaultValue() != null) {
        raw.put(s.key(), new Raw(s.defaultValue(), ConfigSource.defaults(null)));
      }
    }
    if (yaml != null) {
      readYaml(yaml, raw);
    }
    List<LoadedConfig.Warning> warnings = new ArrayList<>();
    for (Setting<?> s : ConfigSchema.settings()) {
      readEnv(s, env, raw, warnings);
    }

    Map<String, Object> parsed = new LinkedHashMap<>();
    for (Setting<?> s : ConfigSchema.settings()) {
      Raw r = raw.get(s.key());
      if (r != null) {
        parsed.put(s.key(), parse(s, r));
      }
    }
    String host = hostName(env);
    SgConfig config;
    try {
      config = ConfigSchema.build(new Values(parsed), host);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid configuration: " + e.getMessage(), e);
    }

    List<LoadedConfig.Effective> effective = new ArrayList<>();
    for (Setting<?> s : ConfigSchema.settings()) {
      Raw r = raw.get(s.key());
      if (r != null) {
        effective.add(new LoadedConfig.Effective(s, r.text(), r.source()));
      } else {
        effective.add(new LoadedConfig.Effective(s, derived(s, config), ConfigSource.defaults(s.defaultNote())));
      }
    }
    return new LoadedConfig(config, Optional.ofNullable(yaml).map(p -> p.toAbsolutePath().normalize()), effective, warnings);
  }

  /** What an unset setting without a default text turns into, where the tree derives one. */
  private static String derived(Setting<?> s, SgConfig config) {
    if (s == ConfigSchema.Node.ID) {
      return config.nodeId();
    }
    if (s == ConfigSchema.Redis.EMBEDDED_DIR) {
      return config.redis().embeddedDir().toString();
    }
    return null;
  }

  private static void readEnv(Setting<?> s, Map<String, String> env, Map<String, Raw> raw,
      List<LoadedConfig.Warning> warnings) {
    String value = env.get(s.env());
    boolean set = value != null && !value.isBlank();
    if (set) {
      raw.put(s.key(), new Raw(value, ConfigSource.env(s.env())));
    }
    for (String old : s.oldEnv()) {
      String v = env.get(old);
      if (v == null || v.isBlank()) {
        continue;
      }
      if (set) {
        warnings.add(new LoadedConfig.Warning(s, old + " is ignored for " + s.key() + ": " + s.env() + " is set"));
        continue;
      }
      raw.put(s.key(), new Raw(v, ConfigSource.env(old)));
      set = true;
      Optional<Setting<?>> now = ConfigSchema.settings().stream().filter(o -> o.env().equals(old)).findFirst();
      warnings.add(new LoadedConfig.Warning(s, now.isPresent()
          ? old + " now sets " + now.get().key() + "; it is also read as " + s.key() + " (its former meaning) because "
              + s.env() + " is unset: set " + s.env() + " for that"
          : old + " is the former name of " + s.env() + " (" + s.key() + "): rename it"));
    }
  }

  private static Object parse(Setting<?> s, Raw r) {
    try {
      return s.type().parseText(r.text().trim());
    } catch (IllegalArgumentException e) {
      throw ConfigException.of(s, r.source(), r.text(), e.getMessage());
    }
  }

  private static void readYaml(Path yaml, Map<String, Raw> raw) {
    JsonNode root;
    try {
      root = YAML.readTree(Files.readAllBytes(yaml));
    } catch (JsonProcessingException e) {
      throw new ConfigException(yaml + ": not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ConfigException(yaml + ": cannot read: " + e, e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return;
    }
    if (!root.isObject()) {
      throw new ConfigException(yaml + ": the top level must be a mapping", null);
    }
    List<String> sections = ConfigSchema.SECTIONS.stream().map(ConfigSchema.Section::name).toList();
    ConfigSource source = ConfigSource.file(yaml.toAbsolutePath().normalize());
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> section = it.next();
      if (!sections.contains(section.getKey())) {
        throw new ConfigException(section.getKey(), null, "unknown section in " + yaml + " (known: " + sections + ")");
      }
      if (section.getValue().isNull()) {
        continue;
      }
      if (!section.getValue().isObject()) {
        throw new ConfigException(section.getKey(), section.getValue().toString(), "must be a mapping");
      }
      for (Iterator<Map.Entry<String, JsonNode>> f = section.getValue().fields(); f.hasNext(); ) {
        Map.Entry<String, JsonNode> field = f.next();
        String key = section.getKey() + "." + field.getKey();
        Setting<?> s = ConfigSchema.setting(key)
            .orElseThrow(() -> new ConfigException(key, null, "unknown key in " + yaml));
        JsonNode v = field.getValue();
        String text;
        if (v.isNull()) {
          continue;
        } else if (v.isArray()) {
          List<String> items = new ArrayList<>();
          v.forEach(n -> items.add(n.asText()));
          text = String.join(",", items);
        } else if (v.isValueNode()) {
          text = v.asText();
        } else {
          throw ConfigException.of(s, source, v.toString(), "must be a scalar or a list");
        }
        if (!text.isBlank()) {
          raw.put(key, new Raw(text, source));
        }
      }
    }
  }

  /** {@code HOSTNAME} from {@code env}, else the local host's name; ':' and spaces become '-'. */
  static String hostName(Map<String, String> env) {
    String h = env.get("HOSTNAME");
    if (h == null || h.isBlank()) {
      try {
        h = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        h = "localhost";
      }
    }
    return h.trim().replace(':', '-').replaceAll("\\s", "-");
  }
}
