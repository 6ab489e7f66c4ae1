package io.sgstreams.core.store;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * API keys made at run time ({@code sg keys create}), stored hashed in Redis and read by every gateway.
 *
 * <p>A key is {@code sgk_} and 43 base64url characters (32 bytes from {@link SecureRandom}); it is shown
 * once, when it is made, and never stored: Redis holds only its SHA-256. Per key, one hash
 * {@link Topology#apiKeyRecord} {@code {keys_prefix}:digest:{sha256hex}} with fields {@code id},
 * {@code tenant}, {@code name} (when given), {@code created} and, once revoked, {@code revoked} (epoch
 * ms); and one field {@code id → sha256hex} in the index hash {@link Topology#apiKeyIndex}
 * {@code {keys_prefix}:index}, for listing and revoking by id. Every command touches one key (Redis
 * Cluster ready). A revoked key keeps its record, so it stays listed and refused.
 */
public final class ApiKeys {
  /** What every generated key starts with: recognisable in logs, configuration and secret scanners. */
  public static final String KEY_PREFIX = "sgk_";
  /** A tenant name: letters, digits, {@code _ . -}, starting with a letter or digit, at most 64 characters. */
  public static final Pattern TENANT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  /** A stored key's id: {@code kid_} and 12 hex digits. */
  public static final Pattern ID = Pattern.compile("kid_[0-9a-f]{12}");
  /** Longest name. */
  public static final int MAX_NAME = 200;

  private static final Pattern KEY = Pattern.compile(Pattern.quote(KEY_PREFIX) + "[A-Za-z0-9_-]{43}");
  private static final int KEY_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  /** KEYS[1] a key's record; ARGV[1] now (ms). Marks it revoked unless it already is; 0 if there is no record. */
  private static final RedisScript REVOKE = new RedisScript("api-key-revoke", """
      if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
      redis.call('HSETNX', KEYS[1], 'revoked', ARGV[1])
      return 1
      """, ScriptOutputType.INTEGER);

  /**
   * A stored key as listed: never the key itself.
   *
   * @param name empty when none was given
   * @param revoked when it was revoked; empty while it is valid
   */
  public record StoredKey(String id, String tenant, Optional<String> name, Instant created, Optional<Instant> revoked) {
    public boolean active() {
      return revoked.isEmpty();
    }
  }

  /** A key just made: the key (shown once, then only its digest exists) and its record. */
  public record NewKey(String key, StoredKey stored) {
    @Override
    public String toString() {
      return "NewKey[" + stored + "]"; // never the key
    }
  }

  private final RedisStreams redis;
  private final Topology topology;
  private final Clock clock;

  public ApiKeys(RedisStreams redis, Topology topology, Clock clock) {
    this.redis = redis;
    this.topology = topology;
    this.clock = clock;
  }

  /**
   * Makes a key for {@code tenant} (see {@link #TENANT}) with an optional {@code name} (null or blank: none).
   *
   * @throws IllegalArgumentException (at once) for a tenant or name that cannot be used
   */
  public Mono<NewKey> create(String tenant, String name) {
    if (tenant == null || !TENANT.matcher(tenant).matches()) {
      throw new IllegalArgumentException("a tenant is 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit; got '"
          + tenant + "'");
    }
    String n = name == null || name.isBlank() ? null : name.strip();
    if (n != null && (n.length() > MAX_NAME || n.chars().anyMatch(Character::isISOControl))) {
      throw new IllegalArgumentException("a name is at most " + MAX_NAME + " characters, without control characters");
    }
    return Mono.defer(() -> tryCreate(tenant, n)).repeat(2).take(1).single()
        .onErrorMap(java.util.NoSuchElementException.class, e -> new IllegalStateException("could not find a free key id"));
  }

  /** One attempt: empty when the drawn id is taken (retried with another). */
  private Mono<NewKey> tryCreate(String tenant, String name) {
    byte[] secret = new byte[KEY_BYTES];
    RANDOM.nextBytes(secret);
    String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    byte[] idBytes = new byte[6];
    RANDOM.nextBytes(idBytes);
    String id = "kid_" + HexFormat.of().formatHex(idBytes);
    String digest = digestHex(key);
    StoredKey stored = new StoredKey(id, tenant, Optional.ofNullable(name),
        Instant.ofEpochMilli(clock.millis()), Optional.empty());
    Map<String, byte[]> fields = new LinkedHashMap<>();
    fields.put("id", bytes(id));
    fields.put("tenant", bytes(tenant));
    if (name != null) {
      fields.put("name", bytes(name));
    }
    fields.put("created", bytes(Long.toString(stored.created().toEpochMilli())));
    String record = topology.apiKeyRecord(digest);
    // the index entry first: every record that exists can be listed and revoked. If writing the
    // record fails the entry is removed again (and the key, never shown, is lost).
    return redis.commands().hsetnx(topology.apiKeyIndex(), id, bytes(digest))
        .filter(Boolean::booleanValue)
        .flatMap(claimed -> redis.commands().hset(record, fields)
            .onErrorResume(e -> redis.commands().hdel(topology.apiKeyIndex(), id).onErrorResume(x -> Mono.empty())
                .then(Mono.error(e)))
            .thenReturn(new NewKey(key, stored)));
  }

  /**
   * The record of {@code key} (revoked or not), found by its SHA-256; empty when no such key was made.
   * A text that is not of the generated form is never looked up.
   */
  public Mono<StoredKey> find(String key) {
    if (!looksLikeKey(key)) {
      return Mono.empty();
    }
    return read(topology.apiKeyRecord(digestHex(key)));
  }

  /** The record with this id, or empty. */
  public Mono<StoredKey> get(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      return Mono.empty();
    }
    return redis.commands().hget(topology.apiKeyIndex(), id)
        .flatMap(digest -> read(topology.apiKeyRecord(text(digest))));
  }

  /** Every stored key, revoked ones included, oldest first. */
  public Flux<StoredKey> list() {
    return redis.commands().hgetall(topology.apiKeyIndex())
        .flatMap(kv -> read(topology.apiKeyRecord(text(kv.getValue()))), 16)
        .sort(Comparator.comparing(StoredKey::created).thenComparing(StoredKey::id));
  }

  /**
   * Revokes the key with this id: from then on {@link #find} returns it with {@code revoked} set.
   * Revoking a revoked key keeps its first revocation time. Empty when there is no such id.
   */
  public Mono<StoredKey> revoke(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      return Mono.empty();
    }
    return redis.commands().hget(topology.apiKeyIndex(), id)
        .flatMap(digest -> {
          String record = topology.apiKeyRecord(text(digest));
          return REVOKE.<Long>run(redis, new String[] {record}, RedisScript.arg(clock.millis()))
              .filter(n -> n == 1)
              .flatMap(n -> read(record));
        });
  }

  /** Whether {@code text} has the form of a generated key ({@code sgk_} and 43 base64url characters). */
  public static boolean looksLikeKey(String text) {
    return text != null && KEY.matcher(text).matches();
  }

  /** The lowercase hex SHA-256 of {@code key}'s UTF-8 bytes: how a key is found, and all that is stored of it. */
  public static String digestHex(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private Mono<StoredKey> read(String record) {
    return redis.commands().hgetall(record)
        .collectMap(KeyValue::getKey, kv -> text(kv.getValue()), HashMap::new)
        .flatMap(f -> {
          if (f.get("id") == null || f.get("tenant") == null || f.get("created") == null) {
            return Mono.empty(); // no record (or not one of ours)
          }
          // a damaged time never makes a key valid: an unreadable 'revoked' still means revoked
          return Mono.just(new StoredKey(f.get("id"), f.get("tenant"), Optional.ofNullable(f.get("name")),
              epochMillis(f.get("created")), Optional.ofNullable(f.get("revoked")).map(ApiKeys::epochMillis)));
        });
  }

  private static Instant epochMillis(String text) {
    try {
      return Instant.ofEpochMilli(Long.parseLong(text.trim()));
    } catch (NumberFormatException e) {
      return Instant.EPOCH;
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }
}
