package io.sgstreams.core.redis.internal;

import io.lettuce.core.ScriptOutputType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import reactor.core.publisher.Mono;

/**
 * A Lua script run with EVALSHA, falling back to EVAL when the server does not know it yet (a
 * restarted or new server). Every script here touches keys of one stream only, so it runs
 * unchanged on a Redis Cluster once streams are partitioned.
 */
public final class RedisScript {
  private final String name;
  private final String source;
  private final String sha1;
  private final ScriptOutputType type;

  public RedisScript(String name, String source, ScriptOutputType type) {
    this.name = name;
    this.source = source;
    this.type = type;
    try {
      this.sha1 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public String name() {
    return name;
  }

  /** Runs the script on the shared connection. */
  public <T> Mono<T> run(RedisStreams redis, String[] keys, byte[]... args) {
    return Mono.<T>fromCompletionStage(() -> redis.async().evalsha(sha1, type, keys, args))
        .onErrorResume(e -> e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT"),
            e -> Mono.fromCompletionStage(() -> redis.async().eval(source, type, keys, args)));
  }

  public static byte[] arg(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static byte[] arg(long n) {
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  /** A script reply element as text (bulk strings arrive as bytes with the pipeline's codec). */
  public static String text(Object o) {
    if (o == null) return null;
    if (o instanceof byte[] b) return new String(b, StandardCharsets.UTF_8);
    if (o instanceof java.nio.ByteBuffer bb) return StandardCharsets.UTF_8.decode(bb.duplicate()).toString();
    return o.toString();
  }
}
