package io.sgstreams.gateway.limit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.gateway.auth.ApiKeyAuth;
import io.sgstreams.gateway.http.ApiError;
import io.sgstreams.gateway.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * {@code Idempotency-Key} for POSTs, shared by every gateway node through Redis. The first
 * request claims {@code {inbound}:idempotency:{caller}-{hash(key)}} with {@code SET NX EX} as
 * "pending"; when it finishes, the status and body replace the marker (same TTL). A retry gets the
 * stored result without publishing again; a duplicate while the first is in progress gets 409.
 * When the first fails on our side before publishing (500/503) the marker is deleted so the client can retry.
 */
public final class IdempotencyStore {
  public static final int MAX_KEY_CHARS = 255;
  private static final byte[] PENDING = "pending".getBytes(StandardCharsets.UTF_8);

  private final RedisEventBus bus;
  private final Duration ttl;

  public IdempotencyStore(RedisEventBus bus, Duration ttl) {
    this.bus = bus;
    this.ttl = ttl;
  }

  /** A stored response. */
  public record Stored(int status, JsonNode body) {}

  /** The Redis key for (tenant, caller, client key): records are per tenant and per caller. */
  public String key(io.sgstreams.gateway.auth.Caller caller, String idempotencyKey) {
    if (idempotencyKey.isEmpty() || idempotencyKey.length() > MAX_KEY_CHARS) {
      throw ApiError.badRequest("invalid_idempotency_key", "Idempotency-Key must have 1 to " + MAX_KEY_CHARS + " characters");
    }
    return bus.topology().idempotencyKey(caller.tenant(), caller.id(), ApiKeyAuth.shortHash(idempotencyKey));
  }

  /**
   * Claims the key: empty when this request is the first (it must then {@link #complete} or
   * {@link #release}), the stored result for a finished one, or a 409 error while in progress.
   */
  public Mono<Optional<Stored>> begin(String key) {
    return bus.records().claim(key, PENDING, ttl)
        .filter(claimed -> claimed)
        .map(ok -> Optional.<Stored>empty())
        .switchIfEmpty(Mono.defer(() -> bus.records().get(key)
            .map(v -> {
              if (java.util.Arrays.equals(v, PENDING)) {
                throw new ApiError(409, "request_in_progress", "a request with this Idempotency-Key is still in progress");
              }
              return Optional.of(decode(v));
            })
            // expired between SET NX and GET: treat as a conflict, the client retries
            .switchIfEmpty(Mono.error(new ApiError(409, "request_in_progress", "a request with this Idempotency-Key is still in progress")))));
  }

  /** Stores the final result for retries. */
  public Mono<Void> complete(String key, int status, JsonNode body) {
    ObjectNode n = Json.object().put("status", status);
    n.set("body", body);
    return bus.records().put(key, Json.write(n).getBytes(StandardCharsets.UTF_8), ttl);
  }

  /** Forgets the claim (the first request failed on our side). */
  public Mono<Void> release(String key) {
    return bus.records().delete(key);
  }

  private static Stored decode(byte[] v) {
    try {
      JsonNode n = Json.readTree(v);
      return new Stored(n.get("status").asInt(), n.get("body"));
    } catch (Exception e) {
      throw new ApiError(500, "idempotency_store_corrupt", "the stored result for this Idempotency-Key cannot be read");
    }
  }
}
