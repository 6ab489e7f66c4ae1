package io.sgstreams.core.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Loads {@link SgConfig} once: built-in defaults (the wire contract's names), then
 * {@code streams.yaml}, then environment variables. Any value that cannot be used is a
 * {@link ConfigException} naming the key and the value; unknown YAML keys are errors too, so a
 * typo never silently falls back to a default.
 *
 * <p>The YAML file is {@code $SG_CONFIG} if set, else {@code ./streams.yaml} if present.
 */
public final class ConfigLoader {
  /** One setting: its YAML path, its environment variable, and how it is parsed. */
  private record Setting(String yamlPath, String env, Function<String, Object> parser) {}

  private static final List<Setting> SETTINGS = List.of(
      new Setting("redis.url", "REDIS_URL", s -> s),
      new Setting("node.id", "SG_NODE_ID", ConfigLoader::segment),
      new Setting("streams.inbound", "SG_INBOUND_STREAM", ConfigLoader::name),
      new Setting("streams.outbound_prefix", "SG_OUTBOUND_STREAM_PREFIX", ConfigLoader::name),
      new Setting("streams.tools", "SG_TOOLS_STREAM", ConfigLoader::name),
      new Setting("streams.tools_reply_prefix", "SG_TOOLS_REPLY_PREFIX", ConfigLoader::name),
      new Setting("streams.dlq", "SG_DLQ_STREAM", ConfigLoader::name),
      new Setting("streams.heartbeat_prefix", "SG_HEARTBEAT_PREFIX", ConfigLoader::name),
      new Setting("streams.maxlen", "SG_STREAM_MAXLEN", ConfigLoader::positiveLong),
      new Setting("streams.dlq_maxlen", "SG_DLQ_MAXLEN", ConfigLoader::positiveLong),
      new Setting("streams.platforms", "SG_PLATFORMS", ConfigLoader::platforms),
      new Setting("groups.workers", "SG_WORKER_GROUP", ConfigLoader::name),
      new Setting("groups.gateway_prefix", "SG_GATEWAY_GROUP_PREFIX", ConfigLoader::name),
      new Setting("groups.tools", "SG_TOOLS_GROUP", ConfigLoader::name),
      new Setting("consumer.max_deliveries", "SG_MAX_DELIVERIES", ConfigLoader::positiveInt),
      new Setting("consumer.claim_min_idle_ms", "SG_CLAIM_MIN_IDLE_MS", ConfigLoader::millis),
      new Setting("consumer.claim_interval_ms", "SG_CLAIM_INTERVAL_MS", ConfigLoader::millis),
      new Setting("consumer.read_count", "SG_READ_COUNT", ConfigLoader::positiveInt),
      new Setting("consumer.read_block_ms", "SG_READ_BLOCK_MS", ConfigLoader::millis),
      new Setting("consumer.concurrency", "SG_WORKER_CONCURRENCY", ConfigLoader::positiveInt),
      new Setting("consumer.ack_batch", "SG_ACK_BATCH", ConfigLoader::positiveInt),
      new Setting("consumer.drain_timeout_ms", "SG_DRAIN_TIMEOUT_MS", ConfigLoader::nonNegativeMillis),
      new Setting("consumer.heartbeat_ttl_ms", "SG_HEARTBEAT_TTL_MS", ConfigLoader::millis),
      new Setting("consumer.remove_idle_consumers_after_ms", "SG_REMOVE_IDLE_CONSUMERS_AFTER_MS", ConfigLoader::millis),
      new Setting("envelope.max_bytes", "SG_MAX_ENVELOPE_BYTES", ConfigLoader::envelopeBytes));

  private ConfigLoader() {}

  /** From the process environment and the default file location. */
  public static SgConfig load() {
    Map<String, String> env = System.getenv();
    String file = env.get("SG_CONFIG");
    Path path = file != null && !file.isBlank() ? Path.of(file) : Path.of("streams.yaml");
    if (file == null && !Files.exists(path)) {
      path = null;
    }
    return load(path, env);
  }

  /**
   * @param yaml a streams.yaml to read, or null for none
   * @param env environment variables (only the {@code SG_*} names and {@code REDIS_URL} are read)
   */
  public static SgConfig load(Path yaml, Map<String, String> env) {
    Map<String, Object> values = new LinkedHashMap<>();
    if (yaml != null) {
      readYaml(yaml, values);
    }
    for (Setting s : SETTINGS) {
      String raw = env.get(s.env());
      if (raw != null && !(raw.isBlank() && s.env().equals("REDIS_URL"))) {
        values.put(s.yamlPath(), parse(s.env(), raw, s.parser()));
      }
    }
    return build(values);
  }

  /** The YAML paths this loader understands, with their environment variables (for docs and tests). */
  public static Map<String, String> settings() {
    Map<String, String> out = new LinkedHashMap<>();
    SETTINGS.forEach(s -> out.put(s.yamlPath(), s.env()));
    return out;
  }

  private static void readYaml(Path yaml, Map<String, Object> values) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(Files.readAllBytes(yaml));
    } catch (JsonProcessingException e) {
      throw new ConfigException(yaml + ": not valid YAML: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new ConfigException(yaml + ": cannot read: " + e.getMessage(), e);
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      return;
    }
    if (!root.isObject()) {
      throw new ConfigException(yaml + ": the top level must be a mapping", null);
    }
    Map<String, Setting> byPath = new LinkedHashMap<>();
    SETTINGS.forEach(s -> byPath.put(s.yamlPath(), s));
    Set<String> sections = Set.of("redis", "node", "streams", "groups", "consumer", "envelope");
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
        String path = section.getKey() + "." + field.getKey();
        Setting s = byPath.get(path);
        if (s == null) {
          throw new ConfigException(path, null, "unknown key in " + yaml);
        }
        JsonNode v = field.getValue();
        if (v.isNull()) {
          continue;
        }
        String raw;
        if (v.isArray()) {
          List<String> items = new ArrayList<>();
          v.forEach(n -> items.add(n.asText()));
          raw = String.join(",", items);
        } else if (v.isValueNode()) {
          raw = v.asText();
        } else {
          throw new ConfigException(path, v.toString(), "must be a scalar or a list");
        }
        if (path.equals("redis.url") && raw.isBlank()) {
          continue;
        }
        values.put(path, parse(path, raw, s.parser()));
      }
    }
  }

  private static Object parse(String key, String raw, Function<String, Object> parser) {
    try {
      return parser.apply(raw.trim());
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key, raw, e.getMessage());
    }
  }

  private static SgConfig build(Map<String, Object> v) {
    Topology t = Topology.defaults();
    ConsumerSettings c = ConsumerSettings.defaults();
    try {
      t = new Topology(
          (String) v.getOrDefault("streams.inbound", t.inboundStream()),
          (String) v.getOrDefault("groups.workers", t.workerGroup()),
          (String) v.getOrDefault("streams.outbound_prefix", t.outboundStreamPrefix()),
          (String) v.getOrDefault("groups.gateway_prefix", t.gatewayGroupPrefix()),
          (String) v.getOrDefault("streams.tools", t.toolsStream()),
          (String) v.getOrDefault("groups.tools", t.toolsGroup()),
          (String) v.getOrDefault("streams.tools_reply_prefix", t.toolsReplyPrefix()),
          (String) v.getOrDefault("streams.dlq", t.dlqStream()),
          (String) v.getOrDefault("streams.heartbeat_prefix", t.heartbeatPrefix()),
          (Long) v.getOrDefault("streams.maxlen", t.maxLen()),
          (Long) v.getOrDefault("streams.dlq_maxlen", t.dlqMaxLen()),
          castList(v.getOrDefault("streams.platforms", t.platforms())));
      c = new ConsumerSettings(
          (Integer) v.getOrDefault("consumer.max_deliveries", c.maxDeliveries()),
          (Duration) v.getOrDefault("consumer.claim_min_idle_ms", c.claimMinIdle()),
          (Duration) v.getOrDefault("consumer.claim_interval_ms", c.claimInterval()),
          (Integer) v.getOrDefault("consumer.read_count", c.readCount()),
          (Duration) v.getOrDefault("consumer.read_block_ms", c.readBlock()),
          (Integer) v.getOrDefault("consumer.concurrency", c.concurrency()),
          (Integer) v.getOrDefault("consumer.ack_batch", c.ackBatch()),
          (Duration) v.getOrDefault("consumer.drain_timeout_ms", c.drainTimeout()),
          (Duration) v.getOrDefault("consumer.heartbeat_ttl_ms", c.heartbeatTtl()),
          (Duration) v.getOrDefault("consumer.remove_idle_consumers_after_ms", c.removeIdleConsumersAfter()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("invalid configuration: " + e.getMessage(), e);
    }
    String nodeId = (String) v.get("node.id");
    if (nodeId == null) {
      nodeId = hostName();
    }
    return new SgConfig(
        Optional.ofNullable((String) v.get("redis.url")),
        nodeId,
        t,
        c,
        (Integer) v.getOrDefault("envelope.max_bytes", 1 << 20));
  }

  @SuppressWarnings("unchecked")
  private static List<String> castList(Object o) {
    return (List<String>) o;
  }

  static String hostName() {
    String h = System.getenv("HOSTNAME");
    if (h == null || h.isBlank()) {
      try {
        h = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        h = "localhost";
      }
    }
    return h.replace(':', '-').replaceAll("\\s", "-");
  }

  private static Object name(String s) {
    if (s.isEmpty() || s.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("must be a non-empty name without whitespace");
    }
    return s;
  }

  private static Object segment(String s) {
    name(s);
    if (s.indexOf(':') >= 0) {
      throw new IllegalArgumentException("must not contain ':'");
    }
    return s;
  }

  private static Object platforms(String s) {
    List<String> out = new ArrayList<>();
    for (String p : Arrays.asList(s.split(","))) {
      String t = p.trim();
      if (!t.isEmpty()) {
        segment(t);
        if (!out.contains(t)) {
          out.add(t);
        }
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("must list at least one platform");
    }
    return List.copyOf(out);
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("must be an integer");
    }
  }

  private static Object positiveLong(String s) {
    long n = parseLong(s);
    if (n <= 0) {
      throw new IllegalArgumentException("must be a positive integer");
    }
    return n;
  }

  private static Object positiveInt(String s) {
    long n = parseLong(s);
    if (n <= 0 || n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("must be a positive integer no larger than " + Integer.MAX_VALUE);
    }
    return (int) n;
  }

  private static Object millis(String s) {
    long n = parseLong(s);
    if (n <= 0) {
      throw new IllegalArgumentException("must be a positive number of milliseconds");
    }
    return Duration.ofMillis(n);
  }

  private static Object nonNegativeMillis(String s) {
    long n = parseLong(s);
    if (n < 0) {
      throw new IllegalArgumentException("must be zero or a positive number of milliseconds");
    }
    return Duration.ofMillis(n);
  }

  private static Object envelopeBytes(String s) {
    long n = parseLong(s);
    if (n < 1024 || n > 512L * 1024 * 1024) {
      throw new IllegalArgumentException("must be between 1024 and 536870912 bytes");
    }
    return (int) n;
  }
}
