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
 *
 * <p>With partitions ({@code P > 1}) the DLQ is {@code P} streams ({@link Topology#dlqStreams()}): listings merge
 * them (by entry id, newest or oldest first), and a dead letter is addressed by its <em>reference</em>
 * ({@link DeadLetter#ref()}): {@code P/ID} (partition {@code P}'s entry {@code ID}), or a bare {@code ID} when only one
 * partition holds that id ({@link AmbiguousIdException} otherwise). Its replay guard lives beside its DLQ
 * partition ({@link #replayGuardKey}, same slot); a replay re-adds it to its {@code original_stream}, which is
 * already the partition key it was read from. With {@code P = 1} references are the bare ids and every key is
 * the one it always was.
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
      long deliveries, String error, Instant deadAt, String traceId, byte[] data, Map<String, byte[]> fields,
      String dlqStream, int partition, String ref) {

    /** A dead letter of the unpartitioned DLQ {@code dlqStream}. */
    public DeadLetter(String id, String originalStream, String originalId, String group, String consumer,
        long deliveries, String error, Instant deadAt, String traceId, byte[] data, Map<String, byte[]> fields) {
      this(id, originalStream, originalId, group, consumer, deliveries, error, deadAt, traceId, data, fields, "", 0, id);
    }

    /** Whether there is anything to replay (a {@code trimmed_before_handled} record has no data). */
    public boolean replayable() {
      return data.length > 0 && !originalStream.isEmpty();
    }

    static DeadLetter of(String id, Map<String, byte[]> f) {
      return of(id, f, "", 0, false);
    }

    static DeadLetter of(String id, Map<String, byte[]> f, String dlqStream, int partition, boolean partitioned) {
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
          java.util.Collections.unmodifiableMap(new LinkedHashMap<>(f)), dlqStream, partition,
          partitioned ? partition + "/" + id : id);
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

  /** The DLQ stream this reads: its configured name (with partitions, the logical name; {@link #streams()} are the keys). */
  public String stream() {
    return topology.dlqStream();
  }

  /** Every DLQ partition's stream, partition 0 first ({@link #stream()} alone when {@code P = 1}). */
  public List<String> streams() {
    return topology.dlqStreams();
  }

  /** The DLQ partition stream of a located reference; {@link #stream()} when its partition is not known. */
  public String streamOf(Ref r) {
    return r.located() ? topology.dlqStream(r.partition()) : stream();
  }

  /** A dead letter's address: its DLQ partition and entry id ({@link #parseRef}). */
  public record Ref(int partition, String id) {
    /** Partition known ({@code P/ID}, or {@code P = 1}). */
    public boolean located() {
      return partition >= 0;
    }
  }

  /** Two or more DLQ partitions hold this bare id: the operator must say which ({@code P/ID}). */
  public static final class AmbiguousIdException extends IllegalArgumentException {
    public AmbiguousIdException(String id, List<String> refs) {
      super("dead letter id " + id + " is in several DLQ partitions: give one of " + String.join(", ", refs));
    }
  }

  /**
   * Parses a dead letter reference: {@code ID} or {@code P/ID} ({@code P} a partition of this topology). With
   * {@code P = 1} a bare id is partition 0's; with partitions a bare id's partition is found by looking ({@code -1}).
   *
   * @throws IllegalArgumentException on anything else
   */
  public Ref parseRef(String ref) {
    if (ref != null) {
      int slash = ref.indexOf('/');
      if (slash > 0) {
        int p;
        try {
          p = Integer.parseInt(ref.substring(0, slash));
        } catch (NumberFormatException e) {
          p = -1;
        }
        if (p < 0 || p >= topology.partitions()) {
          throw new IllegalArgumentException("'" + ref + "': no DLQ partition " + ref.substring(0, slash)
              + " (partitions 0.." + (topology.partitions() - 1) + ")");
        }
        return new Ref(p, requireId(ref.substring(slash + 1)));
      }
    }
    requireId(ref);
    return new Ref(topology.partitioned() ? -1 : 0, ref);
  }

  /** Whether {@code ref} is a dead letter reference ({@code ID} or {@code P/ID}), by its form only. */
  public static boolean validRef(String ref) {
    if (ref == null) {
      return false;
    }
    int slash = ref.indexOf('/');
    if (slash > 0) {
      String p = ref.substring(0, slash);
      if (!p.chars().allMatch(Character::isDigit) || p.length() > 5) {
        return false;
      }
      ref = ref.substring(slash + 1);
    }
    return EntryIds.valid(ref) && ref.indexOf('-') >= 0;
  }

  /** The entry id of a reference ({@code P/ID} → {@code ID}). */
  public static String entryIdOf(String ref) {
    int slash = ref.indexOf('/');
    return slash < 0 ? ref : ref.substring(slash + 1);
  }

  /**
   * {@code {dlq}:replayed:{id}} with {@code P = 1} ({@link Topology#replayGuardKey}); with partitions
   * {@code {dlq partition key}:replayed:{id}}, in the DLQ partition's slot: one guard per dead letter.
   */
  public String replayGuardKey(int partition, String id) {
    if (!topology.partitioned()) {
      return topology.replayGuardKey(id);
    }
    return io.sgstreams.core.topology.StreamKeys.child(
        io.sgstreams.core.topology.StreamKeys.child(topology.dlqStream(partition), "replayed"), id);
  }

  private DeadLetter letter(int partition, StreamMessage<String, byte[]> m) {
    return DeadLetter.of(m.getId(), m.getBody(), topology.dlqStream(partition), partition, topology.partitioned());
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
        .filter(d -> originalStream == null || ofStream(originalStream, d.originalStream()))
        .filter(d -> errorPrefix == null || d.error().startsWith(errorPrefix))
        .take(limit);
  }

  /**
   * Whether a dead letter of {@code original} matches the filter {@code filter}: the same stream, or with partitions
   * the logical name ({@code sg:stream:inbound}) of the partition key it came from.
   */
  boolean ofStream(String filter, String original) {
    if (filter.equals(original)) {
      return true;
    }
    if (!topology.partitioned()) {
      return false;
    }
    if (filter.equals(topology.inboundStream())) {
      return topology.isInbound(original);
    }
    for (String p : topology.platforms()) {
      if (filter.equals(topology.outboundStream(p))) {
        return topology.isOutbound(p, original);
      }
    }
    return false;
  }

  /**
   * Every dead letter from one end, read {@link #PAGE} entries at a time, lazily (a cancelled listing reads no
   * further); with partitions every partition's, merged by entry id (then partition).
   */
  private Flux<DeadLetter> pages(Order order) {
    int n = topology.partitions();
    if (n == 1) {
      return pagesFrom(0, order, null, null).map(m -> letter(0, m));
    }
    List<Flux<DeadLetter>> sources = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int p = i;
      sources.add(pagesFrom(p, order, null, null).map(m -> letter(p, m)));
    }
    java.util.Comparator<DeadLetter> oldest = (a, b) -> {
      int c = EntryIds.compare(a.id(), b.id());
      return c != 0 ? c : Integer.compare(a.partition(), b.partition());
    };
    @SuppressWarnings("unchecked")
    Flux<DeadLetter>[] arr = sources.toArray(Flux[]::new);
    return Flux.mergeComparing(PAGE, order == Order.NEWEST_FIRST ? oldest.reversed() : oldest, arr);
  }

  /**
   * The DLQ's entries from one end, page by page: after {@code cursor} (exclusive; null: from the
   * end), up to {@code upper} (inclusive; null: unbounded; oldest first only).
   */
  private Flux<StreamMessage<String, byte[]>> pagesFrom(int partition, Order order, String cursor, String upper) {
    return page(partition, order, cursor, upper)
        .expand(p -> p.size() < PAGE ? Mono.empty() : page(partition, order, p.get(p.size() - 1).getId(), upper))
        .concatMapIterable(p -> p);
  }

  private Mono<List<StreamMessage<String, byte[]>>> page(int partition, Order order, String cursor, String upper) {
    String dlq = topology.dlqStream(partition);
    Range.Boundary<String> from = cursor == null ? Range.Boundary.unbounded() : Range.Boundary.excluding(cursor);
    if (order == Order.NEWEST_FIRST) {
      return redis.commands().xrevrange(dlq, Range.from(Range.Boundary.unbounded(), from), Limit.from(PAGE)).collectList();
    }
    Range.Boundary<String> to = upper == null ? Range.Boundary.unbounded() : Range.Boundary.including(upper);
    return redis.commands().xrange(dlq, Range.from(from, to), Limit.from(PAGE)).collectList();
  }

  /**
   * The dead letter {@code ref} ({@code ID} or {@code P/ID}, {@link #parseRef}); empty when no DLQ partition has
   * it. A bare id that several partitions hold fails with {@link AmbiguousIdException}.
   */
  public Mono<DeadLetter> get(String ref) {
    Ref r = parseRef(ref);
    if (r.located()) {
      return get(r.partition(), r.id());
    }
    return Flux.range(0, topology.partitions())
        .concatMap(p -> get(p, r.id()))
        .collectList()
        .flatMap(found -> {
          if (found.size() > 1) {
            return Mono.error(new AmbiguousIdException(r.id(), found.stream().map(DeadLetter::ref).toList()));
          }
          return Mono.justOrEmpty(found.stream().findFirst());
        });
  }

  private Mono<DeadLetter> get(int partition, String id) {
    return redis.commands().xrange(topology.dlqStream(partition), Range.create(id, id), Limit.from(1))
        .next()
        .map(m -> letter(partition, m));
  }

  /**
   * What the replay guard of dead letter {@code ref} says; empty when it was never replayed (or the guard expired).
   * With partitions a bare id is looked up first ({@link #get}).
   */
  public Mono<ReplayRecord> replayRecord(String ref) {
    Ref r = parseRef(ref);
    Mono<Integer> partition = r.located() ? Mono.just(r.partition()) : get(ref).map(DeadLetter::partition);
    return partition.flatMap(p -> records.get(replayGuardKey(p, r.id())))
        .flatMap(v -> Mono.justOrEmpty(ReplayRecord.parse(v)));
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
    parseRef(id);
    String who = by == null || by.isBlank() ? "unknown" : by.strip();
    return get(id).flatMap(d -> replay(d, who, force)).switchIfEmpty(Mono.fromSupplier(() -> new NotFound(id)));
  }

  private Mono<ReplayOutcome> replay(DeadLetter d, String by, boolean force) {
    if (!d.replayable()) {
      return Mono.just(new NothingToReplay(d.ref(), d.error()));
    }
    String key = replayGuardKey(d.partition(), d.id());
    Instant at = clock.instant();
    byte[] claim = utf8(CLAIMED + "\n" + at.toEpochMilli() + "\n" + UUID.randomUUID() + "\n" + by);
    Mono<Boolean> take = force
        ? records.put(key, claim, GUARD_TTL).thenReturn(true)
        : records.claim(key, claim, GUARD_TTL);
    return take.flatMap(taken -> {
      if (!taken) {
        return records.get(key).flatMap(v -> Mono.justOrEmpty(ReplayRecord.parse(v)))
            .<ReplayOutcome>map(r -> new AlreadyReplayed(d.ref(), r))
            // the guard vanished between SET NX and GET (expired, deleted): report it as held, nothing was added
            .defaultIfEmpty(new AlreadyReplayed(d.ref(), new ReplayRecord("unknown", at, false, Optional.empty())));
      }
      return bus.publishFields(d.originalStream(), replayFields(d, at))
          .onErrorResume(e -> records.deleteIf(key, claim)
              .onErrorResume(x -> Mono.just(false)) // the guard stays; --force overrides it
              .then(Mono.error(e)))
          .flatMap(newId -> records.put(key, utf8(REPLAYED + "\n" + at.toEpochMilli() + "\n" + newId + "\n" + by), GUARD_TTL)
              .thenReturn((ReplayOutcome) new Replayed(d.ref(), d.originalStream(), newId, by, at)));
    });
  }

  /** The fields of the re-added entry: the data unchanged, a fresh ts, the original trace id, replay_of. */
  static Map<String, byte[]> replayFields(DeadLetter d, Instant now) {
    Map<String, byte[]> f = StreamFields.of(d.data(), now.toEpochMilli(), d.traceId());
    f.put(StreamFields.REPLAY_OF, utf8(d.id()));
    return f;
  }

  // ---------------------------------------------------------------- deleting

  /**
   * Deletes the given dead letters (XDEL; references as {@link #get} takes them); those that were there and are
   * gone now, in the order given, as given.
   */
  public Mono<List<String>> delete(Collection<String> ids) {
    ids.forEach(this::parseRef);
    return Flux.fromIterable(ids)
        .concatMap(ref -> {
          Ref r = parseRef(ref);
          Mono<Integer> partition = r.located() ? Mono.just(r.partition()) : get(ref).map(DeadLetter::partition);
          return partition.flatMap(p -> redis.commands().xdel(topology.dlqStream(p), r.id()))
              .map(n -> n > 0 ? Optional.of(ref) : Optional.<String>empty())
              .defaultIfEmpty(Optional.empty());
        })
        .filter(Optional::isPresent)
        .map(Optional::get)
        .collectList();
  }

  /**
   * Every dead letter dead-lettered (entry id time) strictly before {@code t}, oldest first (partition by
   * partition), at most {@code limit}: their references ({@link DeadLetter#ref()}).
   */
  public Mono<List<String>> idsBefore(Instant t, int limit) {
    long ms = t.toEpochMilli();
    if (ms <= 0 || limit <= 0) {
      return Mono.just(List.of());
    }
    boolean partitioned = topology.partitioned();
    return Flux.range(0, topology.partitions())
        .concatMap(p -> pagesFrom(p, Order.OLDEST_FIRST, null, Long.toString(ms - 1) /* bare ms: the end of that millisecond */)
            .map(m -> partitioned ? p + "/" + m.getId() : m.getId()))
        .take(limit)
        .collectList();
  }

  /** Deletes every dead letter older than {@code t} (entry id time); their references, oldest first per partition. */
  public Mono<List<String>> deleteBefore(Instant t) {
    return idsBefore(t, Integer.MAX_VALUE).flatMap(refs -> {
      Map<Integer, List<String>> byPartition = new java.util.TreeMap<>();
      for (String ref : refs) {
        Ref r = parseRef(ref);
        byPartition.computeIfAbsent(Math.max(r.partition(), 0), k -> new ArrayList<>()).add(r.id());
      }
      List<Map.Entry<Integer, List<String>>> batches = new ArrayList<>();
      byPartition.forEach((p, ids) -> {
        for (int i = 0; i < ids.size(); i += PAGE) {
          batches.add(Map.entry(p, ids.subList(i, Math.min(ids.size(), i + PAGE))));
        }
      });
      return Flux.fromIterable(batches)
          .concatMap(b -> redis.commands().xdel(topology.dlqStream(b.getKey()), b.getValue().toArray(String[]::new)))
          .then(Mono.just(refs));
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
