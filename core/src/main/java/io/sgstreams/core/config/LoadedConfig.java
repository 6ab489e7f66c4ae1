package io.sgstreams.core.config;

import io.sgstreams.core.topology.Role;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The configuration tree with, for each setting, its effective value and where it came from: what
 * {@code sg config} prints. Warnings are about old variable names still accepted.
 *
 * @param file the streams.yaml read, if any
 */
public record LoadedConfig(SgConfig config, Optional<Path> file, List<Effective> settings, List<Warning> warnings) {
  /**
   * One setting's effective value.
   *
   * @param text the value as text (for a derived default, the derived value), or null when unset
   */
  public record Effective(Setting<?> setting, String text, ConfigSource source) {
    /** The value as {@code sg config} shows it: secrets masked, {@code unset} for none. */
    public String shown() {
      return text == null ? null : setting.mask(text);
    }
  }

  /** Something to log once at startup (an old variable name), about {@code setting}. */
  public record Warning(Setting<?> setting, String message) {}

  public LoadedConfig {
    settings = List.copyOf(settings);
    warnings = List.copyOf(warnings);
  }

  /** The settings a process running {@code role} reads. */
  public List<Effective> settingsFor(Role role) {
    return settings.stream().filter(e -> e.setting().appliesTo(role)).toList();
  }

  /** The warnings that concern a process running {@code role}. */
  public List<Warning> warningsFor(Role role) {
    return warnings.stream().filter(w -> w.setting().appliesTo(role)).toList();
  }
}
