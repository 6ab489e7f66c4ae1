package io.sgstreams.gateway.auth;

import io.netty.handler.codec.http.HttpHeaders;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.store.ApiKeys;
import io.sgstreams.core.store.ApiKeys.StoredKey;
import io.sgstreams.gateway.http.ApiError;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * API-key authentication: {@code Authorization: Bearer KEY} or {@code X-API-Key: KEY} (or, for
 * browsers' EventSource / WebSocket which cannot set headers, {@code ?api_key=}). Missing → 401,
 * unknown or revoked → 403.
 *
 * <p>Two kinds of keys are accepted while auth is on ({@code GatewayConfig.authEnabled()}):
 * <ul>
 *   <li>{@code SG_API_KEYS}, {@code tenant:key} pairs (a bare key belongs to tenant {@code default}),
 *       compared as SHA-256 digests with {@link MessageDigest#isEqual}, in constant time, against every
 *       configured key;
 *   <li>keys made by {@code sg keys create} ({@link ApiKeys}), found by their SHA-256 in Redis through a
 *       {@link StoredKeyCache} (so a revoked key is refused within {@link StoredKeyCache#TTL}); the caller's
 *       tenant and {@code keyId} come from the stored record. Only a text of the generated form
 *       ({@code sgk_…}) is looked up.
 * </ul>
 *
 * <p>With auth off (loopback only) every caller is tenant {@code default}, known by its remote address:
 * a key the client presents is then not an identity (rotating fake keys must not buy fresh rate limits).
 */
public final class ApiKeyAuth {
  private static final Logger log = LoggerFactory.getLogger(ApiKeyAuth.class);
  /** A tenant name: what may precede the first ':' of an {@code SG_API_KEYS} entry, and {@code sg keys create --tenant}. */
  public static final Pattern TENANT = ApiKeys.TENANT;

  private record Configured(byte[] digest, String tenant) {}

  private final List<Configured> keys;
  private final boolean enabled;
  private final StoredKeyCache stored;

  /** {@code SG_API_KEYS} only: auth is on when {@code entries} is not empty. */
  public ApiKeyAuth(List<String> entries) {
    this(entries, !entries.isEmpty(), null);
  }

  /**
   * @param entries {@code tenant:key} or bare {@code key} (tenant {@code default})
   * @param enabled whether requests need a key at all
   * @param stored the stored keys, or null to accept {@code entries} only
   */
  public ApiKeyAuth(List<String> entries, boolean enabled, StoredKeyCache stored) {
    this.keys = entries.stream().map(ApiKeyAuth::parse).toList();
    this.enabled = enabled;
    this.stored = stored;
  }

  private static Configured parse(String entry) {
    return new Configured(sha256(keyOf(entry)), tenantOf(entry));
  }

  /** The key of one {@code SG_API_KEYS} entry: {@code key}, or the part after {@code tenant:}. */
  public static String keyOf(String entry) {
    int colon = entry.indexOf(':');
    return tenantPrefixed(entry, colon) ? entry.substring(colon + 1) : entry;
  }

  /** The tenant of one {@code SG_API_KEYS} entry: the {@code tenant:} prefix, else {@code default}. */
  public static String tenantOf(String entry) {
    int colon = entry.indexOf(':');
    return tenantPrefixed(entry, colon) ? entry.substring(0, colon) : Envelope.DEFAULT_TENANT;
  }

  private static boolean tenantPrefixed(String entry, int colon) {
    return colon > 0 && TENANT.matcher(entry.substring(0, colon)).matches() && colon < entry.length() - 1;
  }

  public boolean enabled() {
    return enabled;
  }

  /** Whether keys made by {@code sg keys create} are accepted. */
  public boolean acceptsStoredKeys() {
    return enabled && stored != null;
  }

  /** The tenants that have a key in {@code SG_API_KEYS}. */
  public java.util.Set<String> tenants() {
    java.util.Set<String> out = new java.util.TreeSet<>();
    keys.forEach(k -> out.add(k.tenant()));
    return out;
  }

  /**
   * The caller: its key's tenant and a short hash of its key (and, for a stored key, its id), or tenant
   * {@code default} and its remote address when auth is off. Errors with 401/403, or 503 when a stored key
   * cannot be looked up now.
   */
  public Mono<Caller> authenticate(HttpHeaders headers, String queryKey, String remoteAddress) {
    return Mono.defer(() -> {
      if (!enabled) {
        return Mono.just(Caller.anonymous(shortHash(remoteAddress)));
      }
      String key = presented(headers, queryKey);
      if (key == null) {
        return Mono.error(new ApiError(401, "unauthorized",
            "an API key is required: 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"));
      }
      String tenant = configuredTenant(key);
      if (tenant != null) {
        return Mono.just(new Caller(tenant, "key-" + shortHash(key), null));
      }
      if (stored == null || !ApiKeys.looksLikeKey(key)) {
        return Mono.error(invalid());
      }
      return lookup(key).flatMap(r -> {
        if (r.isEmpty()) {
          return Mono.error(invalid());
        }
        if (!r.get().active()) {
          return Mono.error(revoked());
        }
        return Mono.just(new Caller(r.get().tenant(), "key-" + shortHash(key), r.get().id()));
      });
    });
  }

  /**
   * Whether {@code caller} may still go on: false once its stored key is revoked (or gone), as this node's
   * cache sees it; always true for a key of {@code SG_API_KEYS} and with auth off.
   */
  public Mono<Boolean> stillValid(Caller caller) {
    if (caller.keyId() == null || stored == null) {
      return Mono.just(true);
    }
    return stored.get(caller.keyId()).onErrorMap(e -> !(e instanceof ApiError), ApiKeyAuth::unavailable)
        .map(r -> r.isPresent() && r.get().active());
  }

  private Mono<Optional<StoredKey>> lookup(String key) {
    return stored.find(key).onErrorMap(e -> !(e instanceof ApiError), ApiKeyAuth::unavailable);
  }

  private static ApiError unavailable(Throwable e) {
    log.warn("API key lookup failed: {}", e.toString());
    return new ApiError(503, "unavailable", "API keys cannot be checked now; retry later");
  }

  /** The tenant of {@code key} in {@code SG_API_KEYS}, or null: compared with every entry, no early exit. */
  private String configuredTenant(String key) {
    byte[] d = sha256(key);
    String tenant = null;
    for (Configured k : keys) {
      if (MessageDigest.isEqual(k.digest(), d) && tenant == null) { // no early exit: time does not depend on which key matched
        tenant = k.tenant();
      }
    }
    return tenant;
  }

  private static ApiError invalid() {
    return new ApiError(403, "forbidden", "the API key is not valid");
  }

  private static ApiError revoked() {
    return new ApiError(403, "forbidden", "the API key was revoked");
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
