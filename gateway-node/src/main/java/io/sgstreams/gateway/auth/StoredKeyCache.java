package io.sgstreams.gateway.auth;

import io.sgstreams.core.store.ApiKeys;
import io.sgstreams.core.store.ApiKeys.StoredKey;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;

/**
 * This node's short memory of stored-key lookups ({@link ApiKeys#find}), so a busy key is not read from
 * Redis on every request. Entries, found (valid or revoked) and not found alike, live {@link #TTL}
 * counted from when the lookup started, so a revocation is seen by every gateway within that
 * (plus one lookup). Found and not-found entries are kept apart, each at most {@link #MAX_ENTRIES}
 * (oldest dropped first): a flood of made-up keys evicts other made-up keys, never the valid ones.
 * Entries are keyed by the SHA-256 of the key, never the key itself.
 */
public final class StoredKeyCache {
  /** How long a lookup is trusted: well under the 5 s within which a revoked key must be refused everywhere. */
  public static final Duration TTL = Duration.ofSeconds(2);
  /** Most entries of each kind (found, not found). */
  public static final int MAX_ENTRIES = 10_000;

  private final Function<String, Mono<StoredKey>> byKey;
  private final Function<String, Mono<StoredKey>> byId;
  private final long ttlNanos;
  private final LongSupplier nanoTime;
  private final Bounded<StoredKey> found;
  private final Bounded<Boolean> missing;

  public StoredKeyCache(ApiKeys keys) {
    this(keys::find, keys::get, TTL, MAX_ENTRIES, System::nanoTime);
  }

  /**
   * @param byKey the record of a key (revoked or not), empty when there is none
   * @param byId the record with an id, empty when there is none
   */
  StoredKeyCache(Function<String, Mono<StoredKey>> byKey, Function<String, Mono<StoredKey>> byId, Duration ttl,
      int maxEntries, LongSupplier nanoTime) {
    this.byKey = byKey;
    this.byId = byId;
    this.ttlNanos = ttl.toNanos();
    this.nanoTime = nanoTime;
    this.found = new Bounded<>(maxEntries);
    this.missing = new Bounded<>(maxEntries);
  }

  /** The record of {@code key} (check {@link StoredKey#active()}), or empty when no such key was made. */
  public Mono<Optional<StoredKey>> find(String key) {
    return Mono.defer(() -> cached(ApiKeys.digestHex(key), () -> byKey.apply(key)));
  }

  /**
   * The record with this id, or empty: how a connection that outlives its request (SSE, WebSocket) sees
   * its key revoked.
   */
  public Mono<Optional<StoredKey>> get(String id) {
    return Mono.defer(() -> cached("id/" + id, () -> byId.apply(id))); // never a digest: those are hex only
  }

  private Mono<Optional<StoredKey>> cached(String entry, java.util.function.Supplier<Mono<StoredKey>> lookup) {
    long started = nanoTime.getAsLong();
    StoredKey hit = found.get(entry, started);
    if (hit != null) {
      return Mono.just(Optional.of(hit));
    }
    if (missing.get(entry, started) != null) {
      return Mono.just(Optional.<StoredKey>empty());
    }
    return lookup.get()
        .map(Optional::of)
        .defaultIfEmpty(Optional.empty())
        .doOnNext(r -> {
          long expires = started + ttlNanos;
          if (r.isPresent()) {
            missing.remove(entry);
            found.put(entry, r.get(), expires);
          } else {
            found.remove(entry);
            missing.put(entry, Boolean.TRUE, expires);
          }
        });
  }

  /** Entries held now (found, not found), expired ones included until they are looked at or pushed out. */
  int[] sizes() {
    return new int[] {found.size(), missing.size()};
  }

  /** An insertion-ordered map with a size cap and per-entry expiry. */
  private static final class Bounded<V> {
    private record Entry<V>(V value, long expires) {}

    private final Map<String, Entry<V>> map;

    Bounded(int max) {
      this.map = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Entry<V>> eldest) {
          return size() > max;
        }
      };
    }

    synchronized V get(String k, long now) {
      Entry<V> e = map.get(k);
      if (e == null) {
        return null;
      }
      if (now - e.expires() >= 0) {
        map.remove(k);
        return null;
      }
      return e.value();
    }

    /** Keeps the result of the later-started lookup when two race. */
    synchronized void put(String k, V v, long expires) {
      Entry<V> old = map.remove(k); // re-inserted at the young end
      map.put(k, old != null && old.expires() - expires > 0 ? old : new Entry<>(v, expires));
    }

    synchronized void remove(String k) {
      map.remove(k);
    }

    synchronized int size() {
      return map.size();
    }
  }
}
