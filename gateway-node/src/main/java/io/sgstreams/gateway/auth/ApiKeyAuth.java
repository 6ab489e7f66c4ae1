package io.sgstreams.gateway.auth;

import io.netty.handler.codec.http.HttpHeaders;
import io.sgstreams.gateway.http.ApiError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * API-key authentication: {@code Authorization: Bearer KEY} or {@code X-API-Key: KEY} (or, for
 * browsers' EventSource / WebSocket which cannot set headers, {@code ?api_key=}). Keys are
 * compared as SHA-256 digests with {@link MessageDigest#isEqual}, in constant time, against every
 * configured key. Missing → 401, unknown → 403.
 */
public final class ApiKeyAuth {
  private final List<byte[]> digests;

  public ApiKeyAuth(List<String> keys) {
    this.digests = keys.stream().map(ApiKeyAuth::sha256).toList();
  }

  public boolean enabled() {
    return !digests.isEmpty();
  }

  /**
   * The caller's identity for rate limits and idempotency scoping: a short hash of its key, or
   * {@code addr-<remote address>} when auth is off.
   */
  public String authenticate(HttpHeaders headers, String queryKey, String remoteAddress) {
    String key = presented(headers, queryKey);
    if (!enabled()) {
      return key != null ? "key-" + shortHash(key) : "addr-" + shortHash(remoteAddress);
    }
    if (key == null) {
      throw new ApiError(401, "unauthorized", "an API key is required: 'Authorization: Bearer KEY' or 'X-API-Key: KEY'");
    }
    byte[] d = sha256(key);
    boolean ok = false;
    for (byte[] k : digests) {
      ok |= MessageDigest.isEqual(k, d); // no early exit: time does not depend on which key matched
    }
    if (!ok) {
      throw new ApiError(403, "forbidden", "the API key is not valid");
    }
    return "key-" + shortHash(key);
  }

  private static String presented(HttpHeaders headers, String queryKey) {
    String auth = headers.get("Authorization");
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) && !auth.substring(7).isBlank()) {
      return auth.substring(7).trim();
    }
    String x = headers.get("X-API-Key");
    if (x != null && !x.isBlank()) {
      return x.trim();
    }
    return queryKey == null || queryKey.isBlank() ? null : queryKey;
  }

  /** First 16 hex digits of SHA-256: a key segment that never reveals the key. */
  public static String shortHash(String s) {
    return HexFormat.of().formatHex(sha256(s == null ? "" : s), 0, 8);
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
