package io.sgstreams.core.consume.internal;

import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandKeyword;
import io.lettuce.core.protocol.CommandType;
import io.sgstreams.core.redis.internal.RedisStreams;
import io.sgstreams.core.redis.internal.StreamEntriesOutput;

import io.lettuce.core.Consumer;
import io.lettuce.core.XReadArgs;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.redis.internal.BlockingConnection;
import io.sgstreams.core.redis.internal.RedisErrors;
import io.sgstreams.core.redis.internal.RedisScript;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Reads one stream through the group with {@code XREADGROUP COUNT n [BLOCK ms]} on a connection
 * of its own (a blocking read must not hold the shared connection). When the receiver starts, it
 * first re-reads this consumer's own pending entries (id {@code 0}: a restarted process finishes
 * what it had), then new ones ({@code >}). {@code n} is what the {@link Budget} grants: no more
 * than downstream asked for and in-flight slots allow, and nothing while a claim waits.
 *
 * <p>After a lost connection it goes on with new entries only: the entries it holds are still its
 * own (renewed), and re-reading them would bump their delivery counts; an entry whose XREADGROUP
 * reply was lost in the cut is not renewed and is reclaimed after {@code claim_min_idle}.
 */
final class GroupReader {
  private static final Logger log = LoggerFactory.getLogger(GroupReader.class);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
  /** Short: after a failover the slot's new master is there within seconds (promotion ≈ 2.5 s at a 1 s node timeout). */
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(1);

  private final DefaultStreamReceiver rx;
  private final ReceiverOptions options;
  final String stream;
  final AtomicBoolean busy = new AtomicBoolean();
  private volatile BlockingConnection conn;
  private volatile boolean backingOff;
  /** A blocking XREADGROUP is outstanding (may be unblocked for a claim). */
  private volatile boolean blocking;
  /** The last new-entries read came back empty (reserve one slot for the next). */
  private volatile boolean quiet;
  private boolean history = true;
  private String historyCursor = "0";
  private int failures;
  /** The group and consumer names as the XACK's key arguments encode them (the same bytes, whatever the name). */
  private final byte[] groupBytes;
  private final byte[] consumerBytes;

  GroupReader(DefaultStreamReceiver rx, String stream) {
    this.rx = rx;
    this.options = rx.options();
    this.groupBytes = io.sgstreams.core.redis.internal.StreamCodec.utf8(options.group());
    this.consumerBytes = io.sgstreams.core.redis.internal.StreamCodec.utf8(options.consumer());
    this.stream = stream;
  }

  void pump() {
    if (rx.stopping() || backingOff || !busy.compareAndSet(false, true)) {
      return;
    }
    // a reader whose stream was empty last time blocks with one slot: with many streams (partitions)
    // the slots stay with the readers whose streams have entries
    int n = rx.budget().reserveRead(quiet && options.streams().size() > 1 ? 1 : options.readCount(),
        rx.idleReadersOtherThan(this));
    if (n == 0) {
      busy.set(false);
      if (!rx.stopping() && rx.budget().hasRoomForRead()) {
        pump(); // room appeared between reserve and busy.set(false)
      } else {
        rx.maybeComplete();
      }
      return;
    }
    connection().flatMap(c -> read(c, n)).subscribe(entries -> onBatch(n, entries), e -> onError(n, e));
  }

  private Mono<BlockingConnection> connection() {
    BlockingConnection c = conn;
    if (c != null && c.isOpen()) {
      return Mono.just(c);
    }
    // on a cluster: a connection to the master owning the stream's slot (looked up anew after a failure)
    return rx.bus().connections().dedicated(options.readBlock(), stream)
        .flatMap(nc -> nc.clientId().thenReturn(nc)
            .doOnError(e -> nc.closeAsync()))
        .doOnNext(nc -> conn = nc);
  }

  private Mono<List<Entry>> read(BlockingConnection c, int n) {
    // async, not reactive: a reactive command allocates a publisher, a queue and a collector
    // per call, and at low rates every message costs one blocking read
    if (history) {
      Consumer<String> me = Consumer.from(options.group(), options.consumer());
      return Mono.fromCompletionStage(() -> c.async()
              .xreadgroup(me, XReadArgs.Builder.count(n), XReadArgs.StreamOffset.from(stream, historyCursor)))
          .flatMap(msgs -> rx.withCounts(stream, msgs, 1));
    }
    io.sgstreams.core.consume.Fence fence = rx.fence();
    if (fence != null) {
      return fencedRead(c, n, fence);
    }
    if (rx.channelTurns() != null) {
      // SG_ORDERING=channel-lock: each entry's ticket queued in its conversation's queue as it is read
      return scriptedRead(c, TicketedTurns.READ.<List<Object>>run(rx.bus().connections(), new String[] {stream},
          TicketedTurns.readArgs(options.group(), options.consumer(), n, stream)));
    }
    blocking = true;
    // new entries are delivery 1 by definition; the reply is parsed straight into entries (StreamEntriesOutput)
    return Mono.fromCompletionStage(() -> c.async().dispatch(CommandType.XREADGROUP,
            new StreamEntriesOutput<Entry>((id, body) -> new Entry(id, body, 1)),
            new CommandArgs<>(RedisStreams.CODEC).add(CommandKeyword.GROUP).add(groupBytes).add(consumerBytes)
                .add(CommandKeyword.COUNT).add(n).add(CommandKeyword.BLOCK).add(options.readBlock().toMillis())
                .add("STREAMS").addKey(stream).add(">")))
        .defaultIfEmpty(List.of());
  }

  /**
   * A leased partition's new entries: {@code XREADGROUP … >} runs inside a script that first checks
   * the lease (same slot), so a worker that lost the partition (it stalled past the TTL) reads
   * nothing more from it: entries it could take would stay pending under its name while the new
   * owner answers later ones. Without entries, the script answers the stream's last id and the
   * reader blocks in a plain {@code XREAD … BLOCK} from there on its own connection, as a wake-up
   * (an entry added meanwhile has a higher id, so none is missed), then reads through the script.
   */
  private Mono<List<Entry>> fencedRead(BlockingConnection c, int n, io.sgstreams.core.consume.Fence fence) {
    return scriptedRead(c, FENCED_READ.<List<Object>>run(rx.bus().connections(), new String[] {fence.leaseKey(), stream},
            RedisScript.arg(fence.token()), RedisScript.arg(options.group()), RedisScript.arg(options.consumer()),
            RedisScript.arg(n)))
        .doOnError(e -> {
          if (io.sgstreams.core.consume.Fence.isFenced(e)) {
            rx.fenced();
          }
        });
  }

  /**
   * A read through a script that runs {@code XREADGROUP … >} (a script cannot block): its reply, or,
   * without entries, the stream's last id, from which a plain {@code XREAD … BLOCK} on this reader's
   * connection waits for the next entry.
   */
  private Mono<List<Entry>> scriptedRead(BlockingConnection c, Mono<List<Object>> script) {
    return script
        .flatMap(reply -> {
          if (!reply.isEmpty() && reply.get(0) instanceof List<?>) {
            // XREADGROUP's own reply: [[stream, [[id, [field, value, …]], …]]]
            List<Entry> out = new ArrayList<>();
            for (Object s : reply) {
              List<?> pair = (List<?>) s;
              for (Object e : (List<?>) pair.get(1)) {
                List<?> entry = (List<?>) e;
                java.util.Map<String, byte[]> body = new java.util.LinkedHashMap<>();
                if (entry.size() > 1 && entry.get(1) instanceof List<?> kv) {
                  for (int i = 0; i + 1 < kv.size(); i += 2) {
                    body.put(RedisScript.text(kv.get(i)), (byte[]) kv.get(i + 1));
                  }
                }
                out.add(new Entry(RedisScript.text(entry.get(0)), body, 1));
              }
            }
            return Mono.just(out);
          }
          String top = reply.isEmpty() ? "0-0" : RedisScript.text(reply.get(0));
          if (rx.stopping()) {
            return Mono.just(List.<Entry>of()); // stopped while the script ran: no wake-up read to wait out
          }
          blocking = true;
          return Mono.fromCompletionStage(() -> c.async()
                  .xread(XReadArgs.Builder.count(1).block(options.readBlock()), XReadArgs.StreamOffset.from(stream, top)))
              .thenReturn(List.<Entry>of())
              .defaultIfEmpty(List.of());
        });
  }

  private static final RedisScript FENCED_READ = new RedisScript("fenced-xreadgroup", """
      if redis.call('GET', KEYS[1]) ~= ARGV[1] then
        return redis.error_reply('FENCED the lease ' .. KEYS[1] .. ' is no longer held by ' .. ARGV[1])
      end
      local r = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4], 'STREAMS', KEYS[2], '>')
      if r then return r end
      local top = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
      if #top > 0 then return {top[1][1]} end
      return {'0-0'}
      """, io.lettuce.core.ScriptOutputType.MULTI);

  private void onBatch(int reserved, List<Entry> entries) {
    blocking = false;
    if (failures > 0) {
      log.info("consumer {} reading {} again after {} failed attempts", options.consumer(), stream, failures);
      failures = 0;
    }
    boolean wasHistory = history;
    if (!history) {
      quiet = entries.isEmpty();
    }
    if (history) {
      if (entries.isEmpty()) {
        history = false;
      } else {
        historyCursor = entries.get(entries.size() - 1).id();
      }
    }
    int emitted = rx.emit(stream, entries, wasHistory);
    rx.budget().unreserve(reserved - emitted);
    busy.set(false);
    if (rx.stopping()) {
      rx.maybeComplete();
    } else {
      rx.pumpAll();
    }
  }

  private void onError(int reserved, Throwable e) {
    blocking = false;
    rx.budget().unreserve(reserved);
    if (RedisErrors.isNoGroup(e) && !rx.stopping()) {
      log.warn("group {} on {} is missing; recreating it at 0", options.group(), stream);
      rx.bus().ensureGroup(stream, options.group()).subscribe(
          created -> {
            history = true;
            historyCursor = "0";
            busy.set(false);
            rx.pumpAll();
          },
          this::backOff);
      return;
    }
    backOff(e);
  }

  private void backOff(Throwable e) {
    failures++;
    closeConnection();
    Duration pause = RedisErrors.backoff(failures - 1, FIRST_BACKOFF, MAX_BACKOFF);
    if (failures == 1 || failures % 20 == 0) {
      log.warn("consumer {} cannot read {} (attempt {}), retrying in {} ms: {}",
          options.consumer(), stream, failures, pause.toMillis(), e.toString());
    }
    backingOff = true;
    busy.set(false);
    if (rx.stopping()) {
      rx.maybeComplete();
      return;
    }
    Mono.delay(pause).subscribe(t -> {
      backingOff = false;
      rx.pumpAll();
    });
  }

  /** Ends an outstanding blocking read at once (it returns what it has, usually nothing). */
  void unblock() {
    BlockingConnection c = conn;
    if (blocking && c != null) {
      c.unblock(); // CLIENT UNBLOCK to the node the read is blocked on
    }
  }

  void closeConnection() {
    BlockingConnection c = conn;
    conn = null;
    if (c != null) {
      c.closeAsync();
    }
  }
}
