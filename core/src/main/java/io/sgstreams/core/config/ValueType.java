package io.sgstreams.core.config;

import java.net.URI;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * How a setting's text (from {@code streams.yaml} or a variable) becomes a value, with its
 * bounds. {@code parse} throws {@link IllegalArgumentException} with the problem ("must be …");
 * the loader turns it into a {@link ConfigException} naming the key, the variable and the value.
 *
 * @param kind how {@code sg config --json} renders the value
 * @param values the accepted values, for the documentation table ("1 … 65535", "http(s) URL")
 */
public record ValueType<T>(Kind kind, String values, Function<String, T> parse) {
  /** How a value is written for machines: a JSON string, number or array of strings. */
  public enum Kind { TEXT, INTEGER, LIST }

  public T parseText(String text) {
    return parse.apply(text);
  }

  /** Any non-empty text. */
  public static ValueType<String> text() {
    return new ValueType<>(Kind.TEXT, "text", s -> s);
  }

  /** A stream, group or key name: non-empty, no whitespace. */
  public static ValueType<String> name() {
    return new ValueType<>(Kind.TEXT, "name without spaces", ValueType::requireName);
  }

  /** One segment of a key ({@code {prefix}:{segment}}): a name without {@code ':'}. */
  public static ValueType<String> segment() {
    return new ValueType<>(Kind.TEXT, "name without spaces or `:`", ValueType::requireSegment);
  }

  /** Comma-separated segments, duplicates dropped, at least one. */
  public static ValueType<List<String>> platforms() {
    return new ValueType<>(Kind.LIST, "comma-separated names", s -> {
      List<String> out = new ArrayList<>();
      for (String p : s.split(",")) {
        String t = p.trim();
        if (!t.isEmpty() && !out.contains(requireSegment(t))) {
          out.add(t);
        }
      }
      if (out.isEmpty()) {
        throw new IllegalArgumentException("must list at least one platform");
      }
      return List.copyOf(out);
    });
  }

  /** Comma-separated items, blanks dropped; may be empty. */
  public static ValueType<List<String>> list() {
    return new ValueType<>(Kind.LIST, "comma-separated", s -> {
      List<String> out = new ArrayList<>();
      for (String p : s.split(",")) {
        if (!p.isBlank()) {
          out.add(p.trim());
        }
      }
      return List.copyOf(out);
    });
  }

  /** One of {@code choices} (lower case; the text is matched ignoring case). */
  public static ValueType<String> oneOf(String... choices) {
    List<String> all = List.of(choices);
    StringBuilder shown = new StringBuilder();
    for (int i = 0; i < choices.length; i++) {
      shown.append(i == 0 ? "" : i == choices.length - 1 ? " or " : ", ").append('`').append(choices[i]).append('`');
    }
    return new ValueType<>(Kind.TEXT, shown.toString(), s -> {
      String t = s.trim().toLowerCase(Locale.ROOT);
      if (!all.contains(t)) {
        throw new IllegalArgumentException("must be " + shown.toString().replace("`", ""));
      }
      return t;
    });
  }

  /**
   * Comma-separated browser origins ({@code scheme://host[:port]}, no path), or {@code *} for any;
   * lower-cased, default ports dropped ({@code https://a.example:443} is {@code https://a.example}); may be empty.
   */
  public static ValueType<List<String>> origins() {
    return new ValueType<>(Kind.LIST, "comma-separated `scheme://host[:port]`, or `*`", s -> {
      List<String> out = new ArrayList<>();
      for (String p : s.split(",")) {
        String t = p.trim();
        if (!t.isEmpty()) {
          String o = t.equals("*") ? t : normalizeOrigin(t);
          if (o == null) {
            throw new IllegalArgumentException("'" + t + "' is not an origin: scheme://host[:port] without a path, or *");
          }
          if (!out.contains(o)) {
            out.add(o);
          }
        }
      }
      return List.copyOf(out);
    });
  }

  /**
   * A browser origin in canonical form ({@code scheme://host[:port]}, lower case, no default port),
   * or null when {@code origin} is not one (a path, userinfo, {@code null}, another scheme).
   */
  public static String normalizeOrigin(String origin) {
    URI u;
    try {
      u = new URI(origin.trim());
    } catch (java.net.URISyntaxException e) {
      return null;
    }
    String scheme = u.getScheme() == null ? null : u.getScheme().toLowerCase(Locale.ROOT);
    if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null
        || u.getRawUserInfo() != null || u.getRawQuery() != null || u.getRawFragment() != null
        || !(u.getRawPath() == null || u.getRawPath().isEmpty() || u.getRawPath().equals("/"))) {
      return null;
    }
    int port = u.getPort();
    boolean defaultPort = port == -1 || scheme.equals("http") && port == 80 || scheme.equals("https") && port == 443;
    return scheme + "://" + u.getHost().toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
  }

  public static ValueType<Integer> intIn(int min, int max) {
    return new ValueType<>(Kind.INTEGER, range(min, max, ""), s -> (int) bounded(s, min, max, ""));
  }

  public static ValueType<Long> longIn(long min, long max) {
    return new ValueType<>(Kind.INTEGER, range(min, max, ""), s -> bounded(s, min, max, ""));
  }

  /** Whole milliseconds between {@code min} and {@code max}. */
  public static ValueType<Duration> millisIn(long min, long max) {
    return new ValueType<>(Kind.INTEGER, range(min, max, "ms"), s -> Duration.ofMillis(bounded(s, min, max, "milliseconds")));
  }

  /** Whole seconds between {@code min} and {@code max}. */
  public static ValueType<Duration> secondsIn(long min, long max) {
    return new ValueType<>(Kind.INTEGER, range(min, max, "s"), s -> Duration.of(bounded(s, min, max, "seconds"), ChronoUnit.SECONDS));
  }

  /** An absolute http or https URL. */
  public static ValueType<URI> httpUrl() {
    return new ValueType<>(Kind.TEXT, "http(s) URL", s -> {
      URI u;
      try {
        u = URI.create(s);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("not a URL: " + e.getMessage());
      }
      if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
        throw new IllegalArgumentException("must be an absolute http(s) URL");
      }
      return u;
    });
  }

  /** An http(s) base URL, without trailing slashes. */
  public static ValueType<String> baseUrl() {
    ValueType<URI> url = httpUrl();
    return new ValueType<>(Kind.TEXT, "http(s) URL", s -> {
      url.parseText(s);
      String t = s;
      while (t.endsWith("/")) {
        t = t.substring(0, t.length() - 1);
      }
      return t;
    });
  }

  /** A Redis URI as Lettuce reads it: {@code redis://}, {@code rediss://}, {@code redis-socket://} or {@code redis-sentinel://}. */
  public static ValueType<String> redisUrl() {
    Set<String> schemes = Set.of("redis", "rediss", "redis-socket", "redis-sentinel", "redis-cluster", "rediss-cluster");
    return new ValueType<>(Kind.TEXT, "`redis://` URL", s -> {
      int colon = s.indexOf("://");
      if (colon <= 0 || !schemes.contains(s.substring(0, colon).toLowerCase(Locale.ROOT))) {
        throw new IllegalArgumentException("must be a redis://, rediss://, redis-socket://, redis-sentinel:// URL or, "
            + "for a Redis Cluster, redis-cluster://h1:p1,h2:p2 (rediss-cluster:// with TLS)");
      }
      return s;
    });
  }

  /**
   * A PostgreSQL URL: {@code postgresql://}, {@code postgres://} or {@code r2dbc:postgresql://}
   * (user, password, host, port, database, parameters as libpq and r2dbc-postgresql read them).
   */
  public static ValueType<String> postgresUrl() {
    return new ValueType<>(Kind.TEXT, "`postgresql://` URL", s -> {
      String t = s.trim();
      String lower = t.toLowerCase(Locale.ROOT);
      if (!(lower.startsWith("postgresql://") || lower.startsWith("postgres://") || lower.startsWith("r2dbc:postgresql://")
          || lower.startsWith("r2dbc:postgres://"))) {
        throw new IllegalArgumentException("must be a postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE URL "
            + "(or r2dbc:postgresql://…)");
      }
      return t;
    });
  }

  private static String requireName(String s) {
    if (s.isEmpty() || s.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("must be a non-empty name without whitespace");
    }
    return s;
  }

  private static String requireSegment(String s) {
    requireName(s);
    if (s.indexOf(':') >= 0) {
      throw new IllegalArgumentException("must not contain ':'");
    }
    return s;
  }

  private static long bounded(String s, long min, long max, String unit) {
    long n;
    try {
      n = Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(unit.isEmpty() ? "must be an integer" : "must be a whole number of " + unit);
    }
    if (n < min || n > max) {
      String what = unit.isEmpty() ? "" : " " + unit;
      throw new IllegalArgumentException(max == Integer.MAX_VALUE || max == Long.MAX_VALUE
          ? "must be at least " + min + what
          : "must be between " + min + " and " + max + what);
    }
    return n;
  }

  private static String range(long min, long max, String unit) {
    String u = unit.isEmpty() ? "" : unit + ", ";
    return max == Integer.MAX_VALUE || max == Long.MAX_VALUE ? u + "≥ " + min : u + min + " … " + max;
  }
}
