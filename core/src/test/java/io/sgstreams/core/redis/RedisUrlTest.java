package io.sgstreams.core.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisURI;
import io.sgstreams.core.redis.internal.RedisUrl;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisUrlTest {
  @Test
  void singleHostIsNotClusterByItself() {
    RedisUrl u = RedisUrl.parse("redis://user:secret@h:6380/0");
    assertFalse(u.cluster());
    assertEquals(1, u.seeds().size());
    RedisURI s = u.single();
    assertEquals("h", s.getHost());
    assertEquals(6380, s.getPort());
    assertEquals("user", user(s));
    assertEquals("secret", password(s));
    assertFalse(s.isSsl());
  }

  @Test
  void clusterSchemeWithSeveralHostsAndCredentialsOnEveryNode() {
    RedisUrl u = RedisUrl.parse("redis-cluster://:p%40ss,w@10.0.0.1:7000,10.0.0.2:7001, 10.0.0.3");
    assertTrue(u.cluster());
    List<RedisURI> seeds = u.seeds();
    assertEquals(3, seeds.size());
    assertEquals("10.0.0.1", seeds.get(0).getHost());
    assertEquals(7000, seeds.get(0).getPort());
    assertEquals(7001, seeds.get(1).getPort());
    assertEquals("10.0.0.3", seeds.get(2).getHost());
    assertEquals(6379, seeds.get(2).getPort());
    for (RedisURI s : seeds) {
      assertFalse(s.isSsl());
      assertTrue(password(s) != null && !password(s).isEmpty(), "password on " + s.getHost());
    }
  }

  @Test
  void tlsClusterScheme() {
    RedisUrl u = RedisUrl.parse("rediss-cluster://default:pw@a:1,b:2");
    assertTrue(u.cluster());
    assertEquals(2, u.seeds().size());
    u.seeds().forEach(s -> {
      assertTrue(s.isSsl());
      assertEquals("default", user(s));
      assertEquals("pw", password(s));
    });
  }

  @Test
  void clusterSchemeWithOneHostIsACluster() {
    RedisUrl u = RedisUrl.parse("redis-cluster://a:7000");
    assertTrue(u.cluster());
    assertEquals(1, u.seeds().size());
    assertEquals(7000, u.seeds().get(0).getPort());
  }

  @Test
  void plainSchemeWithSeveralHostsIsACluster() {
    RedisUrl u = RedisUrl.parse("redis://a:1,b:2?timeout=5s");
    assertTrue(u.cluster());
    assertEquals(List.of("a", "b"), u.seeds().stream().map(RedisURI::getHost).toList());
    assertEquals(5, u.seeds().get(1).getTimeout().toSeconds());
  }

  @Test
  void rejectsGarbage() {
    assertThrows(IllegalArgumentException.class, () -> RedisUrl.parse(""));
    assertThrows(IllegalArgumentException.class, () -> RedisUrl.parse("localhost:6379"));
    assertThrows(IllegalArgumentException.class, () -> RedisUrl.parse("redis-cluster://a:1,,b:2"));
  }

  @Test
  void masksPasswords() {
    assertEquals("redis-cluster://***@a:1,b:2", RedisUrl.parse("redis-cluster://u:pw@a:1,b:2").toString());
  }

  private static String user(RedisURI u) {
    return u.getCredentialsProvider().resolveCredentials().block().getUsername();
  }

  private static String password(RedisURI u) {
    char[] p = u.getCredentialsProvider().resolveCredentials().block().getPassword();
    return p == null ? null : new String(p);
  }
}
