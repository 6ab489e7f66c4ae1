package io.sgstreams.core.config;

import java.util.Map;
import java.util.Optional;

/** Parsed values by setting key; a setting without one is unset. */
final class Values {
  private final Map<String, Object> byKey;

  Values(Map<String, Object> byKey) {
    this.byKey = Map.copyOf(byKey);
  }

  /** The value, or null when unset. */
  @SuppressWarnings("unchecked")
  <T> T get(Setting<T> s) {
    return (T) byKey.get(s.key());
  }

  <T> Optional<T> opt(Setting<T> s) {
    return Optional.ofNullable(get(s));
  }
}
