package io.sgstreams.core.redis.internal;

import io.lettuce.core.RedisURI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A Redis URL as the pipeline accepts it: {@code redis://h:p} or {@code rediss://h:p} (one server,
 * or a cluster node: {@link RedisStreams} asks the server), {@code redis://h1:p1,h2:p2} (several
 * hosts: a cluster), and {@code redis-cluster://h1:p1,...} / {@code rediss-cluster://...} (TLS): a
 * cluster. User, password, database path and query options apply to every host.
 *
 * @param seeds one {@link RedisURI} per host, credentials and TLS included
 * @param cluster true when the URL itself says cluster (scheme or several hosts); a single-host
 *     {@code redis://} URL is false here and may still turn out to point at a cluster
 * @param original the URL as given (a single-host URL is passed to Lettuce unchanged)
 */
public record RedisUrl(List<RedisURI> seeds, boolean cluster, String original) {
  public RedisUrl {
    seeds = List.copyOf(seeds);
    if (seeds.isEmpty()) {
      throw new IllegalArgumentException("no host in Redis URL");
    }
  }

  public static RedisUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("Redis URL is empty");
    }
    String u = url.trim();
    int sep = u.indexOf("://");
    if (sep < 0) {
      throw new IllegalArgumentException("Redis URL without a scheme: " + mask(u));
    }
    String scheme = u.substring(0, sep).toLowerCase(Locale.ROOT);
    boolean clusterScheme;
    String plain;
    switch (scheme) {
      case "redis", "rediss" -> {
        clusterScheme = false;
        plain = scheme;
      }
      case "redis-cluster" -> {
        clusterScheme = true;
        plain = "redis";
      }
      case "rediss-cluster" -> {
        clusterScheme = true;
        plain = "rediss";
      }
      default -> {
        // redis-socket://, redis-sentinel://, ...: Lettuce's own parsing, one "seed", standalone
        return new RedisUrl(List.of(RedisURI.create(u)), false, u);
      }
    }
    String rest = u.substring(sep + 3);
    // userinfo ends at the last '@' before the path/query (a password may hold ',' or '@')
    int authorityEnd = indexOfAny(rest, rest.lastIndexOf('@') + 1, "/?");
    String authority = authorityEnd < 0 ? rest : rest.substring(0, authorityEnd);
    String tail = authorityEnd < 0 ? "" : rest.substring(authorityEnd);
    int at = authority.lastIndexOf('@');
    String userInfo = at < 0 ? "" : authority.substring(0, at + 1);
    String hostList = authority.substring(at + 1);
    List<RedisURI> seeds = new ArrayList<>();
    for (String host : hostList.split(",")) {
      String h = host.trim();
      if (h.isEmpty()) {
        throw new IllegalArgumentException("empty host in Redis URL: " + mask(u));
      }
      seeds.add(RedisURI.create(plain + "://" + userInfo + h + tail));
    }
    boolean cluster = clusterScheme || seeds.size() > 1;
    return new RedisUrl(seeds, cluster, u);
  }

  /** The one seed of a single-host URL, parsed by Lettuce from the URL exactly as given (today's path). */
  public RedisURI single() {
    if (seeds.size() != 1) {
      throw new IllegalStateException("not a single-host URL");
    }
    return cluster ? seeds.get(0) : RedisURI.create(original);
  }

  /** The URL with any password masked. */
  public static String mask(String url) {
    return url.replaceAll("//[^@/]*@", "//***@");
  }

  @Override
  public String toString() {
    return mask(original);
  }

  private static int indexOfAny(String s, int from, String chars) {
    for (int i = from; i < s.length(); i++) {
      if (chars.indexOf(s.charAt(i)) >= 0) {
        return i;
      }
    }
    return -1;
  }
}
