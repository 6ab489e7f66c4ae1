package io.sgstreams.gateway.limit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.gateway.auth.ApiKeyAuth;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.http.ApiError;
import io.sgstreams.gateway.http.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * {@code Idempotency-Key} for POSTs, shared by every gateway node through one Redis record per
 * (tenant, caller, key): {@code {inbound}:idempotency:{tenant}:{caller}-{hash(key)}}. The record
 * binds the key to one message, not to one HTTP answer:
 *
 * <ol>
 *   <li><b>pending</b> ({@code SET NX}, expiring after max wait + {@link #PENDING_MARGIN}): a
 *       request claimed the key for the message id it is about to publish. A crash before the
 *       publish leaves nothing that outlives this short expiry.
 *   <li><b>published</b> (expiry: the idempotency TTL): the message is in the inbound stream, with
 *       its stream id. Written right after the XADD, only over this request's own pending marker
 *       (or none: it expired meanwhile).
 *   <li><b>replied</b>: the message's first reply, added by whichever gateway sees it first
 *       (every node tails every outbound stream; the inbound envelope carries
 *       {@link #RECORD_HEADER}, which workers copy to their replies), or by the request that
 *       waited for it.
 * </ol>
 *
 * A retry with the key publishes nothing: it gets the message's reply if there is one, else it
 * waits for that same message as the first request would have ({@code ?wait}) or gets its 202.
 * Every state change is a single-key compare-and-set on the message id, so a stale writer never
 * overwrites another message's record and a reply never moves a record backwards.
 *
 * <p>Value layout: {@code "<state> <message id>\n<message JSON>"} and, once replied,
 * {@code "\n<reply JSON>"} (compact JSON has no raw newlines).
 */
public final class IdempotencyStore {
  public static final int MAX_KEY_CHARS = 255;
  /** Inbound envelope header naming the record; replies carry it back to the gateways. */
  public static final String RECORD_HEADER = "sg-idempotency-record";
  /** How long a pending marker outlives the longest wait: room for a slow publish with its retries. */
  public static final Duration PENDING_MARGIN = Duration.ofSeconds(60);

  private static final String PENDING = "pending";
  private static final String PUBLISHED = "published";
  private static final String REPLIED = "replied";

  private final RedisEventBus bus;
  private final Duration ttl;
  private final Duration pendingTtl;

  /**
   * @param ttl how long a key stays bound to its message (and reply)
   * @param pendingTtl how long a claim that never got as far as publishing holds the key
   */
  public IdempotencyStore(RedisEventBus bus, Duration ttl, Duration pendingTtl) {
    this.bus = bus;
    this.ttl = ttl;
    this.pendingTtl = pendingTtl;
  }

  /** Records kept {@code ttl}, claims {@code maxWait} + {@link #PENDING_MARGIN}. */
  public static IdempotencyStore of(RedisEventBus bus, Duration ttl, Duration maxWait) {
    return new IdempotencyStore(bus, ttl, maxWait.plus(PENDING_MARGIN));
  }

  public Duration pendingTtl() {
    return pendingTtl;
  }

  /** What a record says; {@code STORED_RESULT}: an HTTP answer stored by a gateway of the previous version. */
  public enum State { PENDING, PUBLISHED, REPLIED, STORED_RESULT }

  /**
   * One record: the message the key is bound to ({@code streamId} null until known) and, once
   * replied, the reply's JSON (as {@code ?wait} answers it); for {@code STORED_RESULT},
   * {@code storedStatus} and {@code reply} are the stored status and body.
   */
  public record Bound(State state, String messageId, String correlationId, String streamId, JsonNode reply,
      int storedStatus) {
    /** The 202 body of the message: {@code {id, correlation_id, stream_id}}. */
    public ObjectNode accepted() {
      ObjectNode n = Json.object().put("id", messageId).put("correlation_id", correlationId);
      if (streamId != null) {
        n.put("stream_id", streamId);
      }
      return n;
    }
  }

  /** The Redis key for (tenant, caller, client key): records are per tenant and per caller. */
  public String key(Caller caller, String idempotencyKey) {
    if (idempotencyKey.isEmpty() || idempotencyKey.length() > MAX_KEY_CHARS) {
      throw ApiError.badRequest("invalid_idempotency_key", "Idempotency-Key must have 1 to " + MAX_KEY_CHARS + " characters");
    }
    return bus.topology().idempotencyKey(caller.tenant(), caller.id(), ApiKeyAuth.shortHash(idempotencyKey));
  }

  /** Whether {@code recordKey} (from a reply's header) is one of {@code tenant}'s records. */
  public boolean belongsTo(String tenant, String recordKey) {
    return bus.topology().isIdempotencyKeyOf(tenant, recordKey);
  }

  /** Claims {@code key} for {@code in} (pending, short expiry); true if this request is the first. */
  public Mono<Boolean> claim(String key, InboundEnvelope in) {
    ObjectNode message = Json.object().put("id", in.id()).put("correlation_id", in.correlationId());
    return bus.records().claim(key, bytes(head(PENDING, in.id()) + Json.write(message)), pendingTtl);
  }

  /**
   * Binds {@code key} to the published message (its stream id, the idempotency TTL), over this
   * request's own pending marker or none; a record already replied or another message's is left
   * alone. True if written.
   */
  public Mono<Boolean> bind(String key, InboundEnvelope in, String streamId) {
    ObjectNode message = Json.object().put("id", in.id()).put("correlation_id", in.correlationId()).put("stream_id", streamId);
    return bus.records().replaceIf(key, bytes(head(PUBLISHED, in.id()) + Json.write(message)), ttl, true,
        List.of(bytes(head(PENDING, in.id()))));
  }

  /**
   * Adds the first reply to the record of message {@code messageId}: only while it is pending or
   * published for that message (a later reply, or one for another message, changes nothing).
   * True if this call completed it.
   */
  public Mono<Boolean> complete(String key, String messageId, JsonNode reply) {
    return bus.records().rewriteIf(key,
        List.of(bytes(head(PENDING, messageId)), bytes(head(PUBLISHED, messageId))),
        bytes(head(REPLIED, messageId)), bytes("\n" + Json.write(reply)), ttl);
  }

  /** Forgets this request's claim: the message was certainly not published (refused before sending). */
  public Mono<Boolean> release(String key, InboundEnvelope in) {
    return bus.records().deleteIf(key, bytes(head(PENDING, in.id())));
  }

  /** The record, or empty when there is none. Records of an older layout read as pending (they expire). */
  public Mono<Optional<Bound>> read(String key) {
    return bus.records().get(key).map(v -> Optional.of(decode(v))).defaultIfEmpty(Optional.empty());
  }

  private static String head(String state, String messageId) {
    return state + " " + messageId + "\n";
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Bound decode(byte[] v) {
    String s = new String(v, StandardCharsets.UTF_8);
    if (s.startsWith("{")) { // {status, body}: the previous version's stored answer
      try {
        JsonNode n = Json.readTree(s);
        return new Bound(State.STORED_RESULT, null, null, null, n.get("body"), n.path("status").asInt(202));
      } catch (java.io.IOException e) {
        return unreadable();
      }
    }
    String[] lines = s.split("\n", 3);
    int space = lines[0].indexOf(' ');
    if (lines.length < 2 || space < 0) {
      return unreadable();
    }
    State state = switch (lines[0].substring(0, space)) {
      case PUBLISHED -> State.PUBLISHED;
      case REPLIED -> State.REPLIED;
      default -> State.PENDING;
    };
    try {
      JsonNode message = Json.readTree(lines[1]);
      JsonNode reply = state == State.REPLIED && lines.length == 3 ? Json.readTree(lines[2]) : null;
      String streamId = message.path("stream_id").isTextual() ? message.get("stream_id").asText() : null;
      return new Bound(reply == null && state == State.REPLIED ? State.PUBLISHED : state, lines[0].substring(space + 1),
          message.path("correlation_id").asText(), streamId, reply, 0);
    } catch (java.io.IOException e) {
      return unreadable();
    }
  }

  /** Not a record we can read (e.g. the previous version's bare "pending"): in progress until it expires. */
  private static Bound unreadable() {
    return new Bound(State.PENDING, null, null, null, null, 0);
  }
}
