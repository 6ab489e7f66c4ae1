package io.sgstreams.core.consume;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.SetArgs;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.store.Records;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The dead letters in the DLQ stream ({@link DeadLetters} writes them) as an operator sees them
 * ({@code sg dlq}): listed, read one by one, replayed onto their original stream, deleted.
 *
 * <p>A replay re-adds the dead letter's {@code data} unchanged to its {@code original_stream} with a
 * fresh {@code ts}, the original {@code trace_id} and {@link StreamFields#REPLAY_OF} = the DLQ entry
 * id, so the workers handle it again as a new entry and the journal can link the two. Replaying is
 * guarded: the guard key {@link Topology#replayGuardKey} is taken with {@code SET NX} (who and when,
 * kept {@link #GUARD_TTL}) before anything is added, so two operators (or one running the same
 * command twice) never re-add a dead letter twice by accident; a replay that fails to publish gives
 * the guard back with a compare-and-delete (only its own value), and {@code force} overrides it.
 * A target stream whose backlog is full refuses the replay with the bus's
 * {@link io.sgstreams.core.bus.BacklogFullException} (and the guard is given back).
 *
 * <p>Every command touches one key (the DLQ stream, one guard key, or the target stream), so it
 * runs unchanged on a Redis Cluster.
 */
public final class DeadLetterQueue {
  /** How long a replay guard is kept: long past any sensible retry of the same dead letter. */
  public static final Duration GUARD_TTL = Duration.ofDays(30);
  /** Entries read per XRANGE while filtering or collecting old entries. */
  static final int PAGE = 200;

  private static final String CLAIMED = "claimed";
  private static final String REPLAYED = "replayed";

  /** Which end of the DLQ stream a listing starts at. */
  public enum Order { NEWEST_FIRST, OLDEST_FIRST }

  /**
   * One dead letter as read from the DLQ stream.
   *
   * @param data the original entry's bytes, unchanged; empty when there were none (an entry trimmed before it was handled)
   * @param deadAt when it was dead-lettered (its {@code ts}, else its entry id's time)
   * @param fields every field of the DLQ entry, raw
   */
  public record DeadLetter(String id, String originalStream, String originalId, String group, String consumer,
      long deliveries, String error, Instant deadAt, String traceId, byte[] data, Map<String, byte[]> fields) {

    /** Whether there is anything to replay (a {@code trimmed_before_handled} record has no data). */
    public boolean replayable() {
      return data.length > 0 && !originalStream.isEmpty();
    }

    static DeadLetter of(String id, Map<String, byte[]> f) {
      long ts;
      try {
        ts = Long.parseLong(StreamFields.string(f, StreamFields.TS).trim());
      } catch (NumberFormatException e) {
        ts = EntryIds.millis(id);
      }
      long deliveries;
      try {
        deliveries = Long.parseLong(StreamFields.string(f, DeadLetters.DELIVERIES).trim());
      } catch (NumberFormatException e) {
        deliveries = 0;
      }
      byte[] data = f.get(StreamFields.DATA);
      return new DeadLetter(id, StreamFields.string(f, DeadLetters.ORIGINAL_STREAM),
          StreamFields.string(f, DeadLetters.ORIGINAL_ID), StreamFields.string(f, DeadLetters.GROUP),
          StreamFields.string(f, DeadLetters.CONSUMER), deliveries, StreamFields.string(f, DeadLetters.ERROR),
          Instant.ofEpochMilli(ts), StreamFields.string(f, StreamFields.TRACE_ID), data == null ? new byte[0] : data,
          java.util.Collections.unmodifiableMap(new LinkedHashMap<>(f)));
    }
  }

  /**
   * What the replay guard of a dead letter says.
   *
   * @param done true once the entry was re-added ({@code newEntryId} set); false while a replay holds
   *     the guard (or one died between taking it and publishing: {@code force} overrides)
   */
  public record ReplayRecord(String by, Instant at, boolean done, Optional<String> newEntryId) {
    static Optional<ReplayRecord> parse(byte[] value) {
      if (value == null) {
        return Optional.empty();
      }
      // state \n at-ms \n new id or nonce \n by  (by last: it may contain anything)
      String[] p = new String(value, StandardCharsets.UTF_8).split("\n", 4);
      if (p.length < 4) {
        return Optional.empty();
      }
      long at;
      try {
        at = Long.parseLong(p[1]);
      } catch (NumberFormatException e) {
        at = 0;
      }
      boolean done = REPLAYED.equals(p[0]);
      return Optional.of(new ReplayRecord(p[3], Instant.ofEpochMilli(at), done, done ? Optional.of(p[2]) : Optional.empty()));
    }
  }

  /** What became of one replay. */
  public sealed interface ReplayOutcome {
    String dlqId();
  }

  /** Re-added to {@code stream} as {@code newEntryId}. */
  public record Replayed(String dlqId, String stream, String newEntryId, String by, Instant at) implements ReplayOutcome {}

  /** Refused: the guard says it was replayed (or is being replayed) already; nothing was added. */
  public record AlreadyReplayed(String dlqId, ReplayRecord record) implements ReplayOutcome {}

  /** No such entry in the DLQ stream (a wrong id, or deleted / trimmed). */
  public record NotFound(String dlqId) implements ReplayOutcome {}

  /** The dead letter holds no data to re-add (it records an entry trimmed before it was handled). */
  public record NothingToReplay(String dlqId, String error) implements ReplayOutcome {}

  private final RedisEventBus bus;
  private final RedisStreams redis;
  private final Records records;
  private final Topology topology;
  private final Clock clock;

  public DeadLetterQueue(RedisEventBus bus, Clock clock) {
    this.bus = bus;
    this.redis = bus.connections();
    this.records = bus.records();
    this.topology = bus.topology();
    this.clock = clock;
  }

  /** The DLQ stream this reads. */
  public String stream() {
    return topology.dlqStream();
  }

  // ---------------------------------------------------------------- reading

  /**
   * Up to {@code limit} dead letters from one end of the DLQ stream, optionally only those of
   * {@code originalStream} (null: any) whose error starts with {@code errorPrefix} (null: any).
   * Filtering reads the stream page by page until {@code limit} matched or it is exhausted.
   */
  public Flux<DeadLetter> list(Order order, String originalStream, String errorPrefix, int limit) {
    if (limit <= 0) {
      return Flux.empty();
    }
    return pages(order)
        .filter(d -> originalStream == null || originalStream.equals(d.originalStream()))
        .filter(d -> errorPrefix == null || d.error().startsWith(errorPrefix))
        .take(limit);
  }

  /** Every dead letter from one end, read {@link #PAGE} entries at a time, lazily (a cancelled listing reads no further). */
  private Flux<DeadLetter> pages(Order order) {
    return pagesFrom(order, null, null)
        .map(m -> DeadLetter.of(m.getId(), m.getBody()));
  }

  /**
   * The DLQ's entries from one end, page by page: after {@code cursor} (exclusive; null: from the
   * end), up to {@code upper} (inclusive; null: unbounded; oldest first only).
   */
  private Flux<StreamMessage<String, byte[]>> pagesFrom(Order order, String cursor, String upper) {
    return page(order, cursor, upper)
        .expand(p -> p.size() < PAGE ? Mono.empty() : page(order, p.get(p.size() - 1).getId(), upper))
        .concatMapIterable(p -> p);
  }

  private Mono<List<StreamMessage<String, byte[]>>> page(Order order, String cursor, String upper) {
    String dlq = stream();
    Range.Boundary<String> from = cursor == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(cursor);
    if (order == Order.NEWEST_FIRST) {
      return redis.commands().xrevrange(dlq, Range.from(Range.Boundary.unbounded(), from), Limit.from(PAGE)).collectList();
    }
    Range.Boundary<String> to = upper == null ? Range.Boundary.unbounded() : Range.Boundary.including(upper);
    return redis.commands().xrange(dlq, Range.from(from, to), Limit.from(PAGE)).collectList();
  }

  /** The dead letter with DLQ entry id {@code id}; empty when the stream has no such entry. */
  public Mono<DeadLetter> get(String id) {
    requireId(id);
    return redis.commands().xrange(stream(), Range.create(id, id), Limit.from(1))
        .next()
        .map(m -> DeadLetter.of(m.getId(), m.getBody()));
  }

  /** What the replay guard of dead letter {@code id} says; empty when it was never replayed (or the guard expired). */
  public Mono<ReplayRecord> replayRecord(String id) {
    requireId(id);
    return records.get(topology.replayGuardKey(id)).flatMap(v -> Mono.justOrEmpty(ReplayRecord.parse(v)));
  }

  // ---------------------------------------------------------------- replaying

  /**
   * Replays dead letter {@code id} as {@code by} (who, for the guard and the operator): takes the
   * guard ({@code SET NX}, or over any value when {@code force}), re-adds the data to its original
   * stream and records the new entry id in the guard. A publish that fails (including a full
   * backlog: {@link io.sgstreams.core.bus.BacklogFullException}) gives the guard back and fails
   * the Mono with that error.
   */
  public Mono<ReplayOutcome> replay(String id, String by, boolean force) {
    requireId(id);
    String who = by == null || by.isBlank() ? "unknown" : by.strip();
    return get(id).flatMap(d -> replay(d, who, force)).switchIfEmpty(Mono.fromSupplier(() -> new NotFound(id)));
  }

  private Mono<ReplayOutcome> replay(DeadLetter d, String by, boolean force) {
    if (!d.replayable()) {
      return Mono.just(new NothingToReplay(d.id(), d.error()));
    }
    String key = topology.replayGuardKey(d.id());
    Instant at = clock.instant();
    byte[] claim = utf8(CLAIMED + "\n" + at.toEpochMilli() + "\n" + UUID.randomUUID() + "\n" + by);
    Mono<Boolean> take = force
        ? records.put(key, claim, GUARD_TTL).thenReturn(true)
        : records.claim(key, claim, GUARD_TTL);
    return take.flatMap(taken -> {
      if (!taken) {
        return replayRecord(d.id())
            .<ReplayOutcome>map(r -> new AlreadyReplayed(d.id(), r))
            // the guard vanished between SET NX and GET (expired, deleted): report it as held, nothing was added
            .defaultIfEmpty(new AlreadyReplayed(d.id(), new ReplayRecord("unknown", at, false, Optional.empty())));
      }
      return bus.publishFields(d.originalStream(), replayFields(d, at))
          .onErrorResume(e -> records.deleteIf(key, claim)
              .onErrorResume(x -> Mono.just(false)) // the guard stays; --force overrides it
              .then(Mono.error(e)))
          .flatMap(newId -> records.put(key, utf8(REPLAYED + "\n" + at.toEpochMilli() + "\n" + newId + "\n" + by), GUARD_TTL)
              .thenReturn((ReplayOutcome) new Replayed(d.id(), d.originalStream(), newId, by, at)));
    });
  }

  /** The fields of the re-added entry: the data unchanged, a fresh ts, the original trace id, replay_of. */
  static Map<String, byte[]> replayFields(DeadLetter d, Instant now) {
    Map<String, byte[]> f = StreamFields.of(d.data(), now.toEpochMilli(), d.traceId());
    f.put(StreamFields.REPLAY_OF, utf8(d.id()));
    return f;
  }

  // ---------------------------------------------------------------- deleting

  /** Deletes the given dead letters (XDEL); the ids that were there and are gone now, in the order given. */
  public Mono<List<String>> delete(Collection<String> ids) {
    ids.forEach(DeadLetterQueue::requireId);
    return Flux.fromIterable(ids)
        .concatMap(id -> redis.commands().xdel(stream(), id).map(n -> n > 0 ? Optional.of(id) : Optional.<String>empty()))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .collectList();
  }

  /** Every dead letter dead-lettered (entry id time) strictly before {@code t}, oldest first, at most {@code limit}. */
  public Mono<List<String>> idsBefore(Instant t, int limit) {
    long ms = t.toEpochMilli();
    if (ms <= 0 || limit <= 0) {
      return Mono.just(List.of());
    }
    return pagesFrom(Order.OLDEST_FIRST, null, Long.toString(ms - 1) /* bare ms: the end of that millisecond */)
        .map(StreamMessage::getId)
        .take(limit)
        .collectList();
  }

  /** Deletes every dead letter older than {@code t} (entry id time); the ids deleted, oldest first. */
  public Mono<List<String>> deleteBefore(Instant t) {
    return idsBefore(t, Integer.MAX_VALUE).flatMap(ids -> {
      List<List<String>> batches = new ArrayList<>();
      for (int i = 0; i < ids.size(); i += PAGE) {
        batches.add(ids.subList(i, Math.min(ids.size(), i + PAGE)));
      }
      return Flux.fromIterable(batches)
          .concatMap(b -> redis.commands().xdel(stream(), b.toArray(String[]::new)))
          .then(Mono.just(ids));
    });
  }

  /** @throws IllegalArgumentException unless {@code id} is a stream entry id ({@code ms-seq}) */
  public static String requireId(String id) {
    if (id == null || !EntryIds.valid(id) || id.indexOf('-') < 0) {
      throw new IllegalArgumentException("not a stream entry id (ms-seq, e.g. 1718000000000-0): '" + id + "'");
    }
    return id;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
