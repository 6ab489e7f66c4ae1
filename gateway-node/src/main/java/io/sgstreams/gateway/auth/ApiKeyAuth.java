package io.sgstreams.gateway.auth;

import io.sgstreams.core.envelope.Envelope;
import java.util.regex.Pattern;
import io.netty.handler.codec.http.HttpHeaders;
import io.sgstreams.gateway.http.ApiError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * API-key authentication: {@code Authorization: Bearer KEY} or {@code X-API-Key: KEY} (or, for
 * browsers' EventSource / WebSocket which cannot set headers, {@code ?api_key=}). Keys come from
 * {@code SG_API_KEYS} as {@code tenant:key} pairs (a bare key belongs to tenant {@code default});
 * they are compared as SHA-256 digests with {@link MessageDigest#isEqual}, in constant time,
 * against every configured key. Missing → 401, unknown → 403. With no keys configured (auth off,
 * loopback only) every caller is tenant {@code default}, known by its remote address: a key the
 * client presents is then not an identity (rotating fake keys must not buy fresh rate limits).
 */
public final class ApiKeyAuth {
  /** A tenant name: what may precede the first ':' of an {@code SG_API_KEYS} entry. */
  public static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

  private record Configured(byte[] digest, String tenant) {}

  private final List<Configured> keys;

  /** @param entries {@code tenant:key} or bare {@code key} (tenant {@code default}) */
  public ApiKeyAuth(List<String> entries) {
    this.keys = entries.stream().map(ApiKeyAuth::parse).toList();
  }

  private static Configured parse(String entry) {
    int colon = entry.indexOf(':');
    if (colon > 0 && TENANT.matcher(entry.substring(0, colon)).matches() && colon < entry.length() - 1) {
      return new Configured(sha256(entry.substring(colon + 1)), entry.substring(0, colon));
    }
    return new Configured(sha256(entry), Envelope.DEFAULT_TENANT);
  }

  public boolean enabled() {
    return !keys.isEmpty();
  }

  /** The tenants that have a key in {@code SG_API_KEYS}. */
  public java.util.Set<String> tenants() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    keys.forEach(k -> out.add(k.tenant()));
    return out;
  }

  /**
   * The caller: its key's tenant and a short hash of its key, or tenant {@code default} and its
   * remote address when auth is off.
   */
  public Caller authenticate(HttpHeaders headers, String queryKey, String remoteAddress) {
    if (!enabled()) {
      return Caller.anonymous(shortHash(remoteAddress));
    }
    String key = presented(headers, queryKey);
    if (key == null) {
      throw new ApiError(401, "unauthorized", "an API key is required: 'Authorization: Bearer KEY' or 'X-API-Key: KEY'");
    }
    byte[] d = sha256(key);
    String tenant = null;
    for (Configured k : keys) {
      if (MessageDigest.isEqual(k.digest(), d) && tenant == null) { // no early exit: time does not depend on which key matched
        tenant = k.tenant();
      }
    }
    if (tenant == null) {
      throw new ApiError(403, "forbidden", "the API key is not valid");
    }
    return new Caller(tenant, "key-" + shortHash(key), null);
  }

  /** The key a request presents, or null. */
  public static String presented(HttpHeaders headers, String queryKey) {
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
