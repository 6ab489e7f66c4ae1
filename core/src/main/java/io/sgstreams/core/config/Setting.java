package io.sgstreams.core.config;

import io.sgstreams.core.topology.Role;
import java.util.List;

/**
 * One setting of the configuration tree: where it is written in {@code streams.yaml}, the
 * environment variable that overrides it, how its text is parsed, its default, whether it is a
 * secret and what it means. Every setting is declared once, in {@link ConfigSchema}.
 *
 * @param key {@code section.name}, the {@code streams.yaml} path
 * @param env the environment variable (part of the wire contract: renaming one keeps the old name in {@code oldEnv})
 * @param type parser with bounds
 * @param defaultValue the default as text, or null when unset by default
 * @param defaultNote what an unset value means, for settings without a default text ("the host name"); else null
 * @param role the role that reads it when narrower than its section's ({@link ConfigSchema.Section#role()});
 *     STANDALONE means only standalone; null: as its section
 * @param secret shown masked by {@code sg config}: the whole value, or only the password of a URL
 * @param oldEnv former variable names, still accepted with a warning when {@code env} is unset
 * @param description one line, for {@code sg config} and the documented table
 */
public record Setting<T>(
    String key,
    String env,
    ValueType<T> type,
    String defaultValue,
    String defaultNote,
    Role role,
    boolean secret,
    List<String> oldEnv,
    String description) {

  public Setting {
    if (key.indexOf('.') <= 0) {
      throw new IllegalArgumentException("a setting key is section.name: " + key);
    }
    oldEnv = List.copyOf(oldEnv);
  }

  static <T> Setting<T> of(String key, String env, ValueType<T> type, String defaultValue, String description) {
    return new Setting<>(key, env, type, defaultValue, null, null, false, List.of(), description);
  }

  /** The same setting, read only by {@code role}. */
  Setting<T> readBy(Role r) {
    return new Setting<>(key, env, type, defaultValue, defaultNote, r, secret, oldEnv, description);
  }

  Setting<T> masked() {
    return new Setting<>(key, env, type, defaultValue, defaultNote, role, true, oldEnv, description);
  }

  /** Unset by default; {@code note} says what that means. */
  Setting<T> unsetMeans(String note) {
    return new Setting<>(key, env, type, defaultValue, note, role, secret, oldEnv, description);
  }

  Setting<T> formerly(String... names) {
    return new Setting<>(key, env, type, defaultValue, defaultNote, role, secret, List.of(names), description);
  }

  /** The {@code streams.yaml} section: the part of the key before the dot. */
  public String section() {
    return key.substring(0, key.indexOf('.'));
  }

  /** The key within its section. */
  public String name() {
    return key.substring(key.indexOf('.') + 1);
  }

  /** Whether a process running {@code r} reads this setting. */
  public boolean appliesTo(Role r) {
    Role reader = role != null ? role : ConfigSchema.section(section()).map(ConfigSchema.Section::role).orElse(null);
    if (reader == null) {
      return true;
    }
    return reader == Role.STANDALONE ? r == Role.STANDALONE : r.includes(reader);
  }

  /** {@code text} as {@code sg config} shows it: secrets masked (a URL keeps all but its password). */
  public String mask(String text) {
    if (!secret || text == null || text.isEmpty()) {
      return text;
    }
    int scheme = text.indexOf("://");
    if (scheme > 0) {
      int at = text.indexOf('@', scheme + 3);
      int slash = text.indexOf('/', scheme + 3);
      if (at < 0 || (slash >= 0 && slash < at)) {
        return text; // no credentials in this URL
      }
      String user = text.substring(scheme + 3, at);
      int colon = user.indexOf(':');
      String shown = colon >= 0 ? user.substring(0, colon) + ":****" : "****";
      return text.substring(0, scheme + 3) + shown + text.substring(at);
    }
    return "****";
  }
}
