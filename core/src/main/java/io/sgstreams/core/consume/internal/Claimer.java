package io.sgstreams.core.consume.internal;

import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XPendingArgs;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.redis.internal.RedisErrors;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Takes over entries idle for longer than {@code claim_min_idle}: those of consumers that stopped
 * renewing (dead or stalled), and this consumer's own released ones (a failed handler's retry).
 * Every claim interval it asks whether anything is that idle ({@code XPENDING … IDLE}, no slots
 * needed); if so it claims with {@code XAUTOCLAIM} within the shared in-flight {@link Budget},
 * ahead of new reads (a blocked reader is unblocked to give its slots back), and scans the whole
 * pending list before it rests. XAUTOCLAIM's idle check is atomic, so two claimers never both
 * win an entry, and a live consumer's renewed entries are never idle enough to be taken.
 *
 * <p>Lettuce's XAUTOCLAIM output drops the third element of the Redis 7 reply, the ids found
 * deleted from the stream (trimmed while pending); this class reads the raw reply so that they
 * are recorded, never silently forgotten.
 */
final class Claimer {
  private static final Logger log = LoggerFactory.getLogger(Claimer.class);
  /** While waiting for slots, blocked readers are unblocked again this often (an UNBLOCK can race with the read it targets). */
  private static final Duration RECHECK = Duration.ofMillis(150);

  private final DefaultStreamReceiver rx;
  private final ReceiverOptions options;
  final String stream;
  final AtomicBoolean busy = new AtomicBoolean();
  private volatile boolean waiting;
  private volatile String cursor = "0-0";

  Claimer(DefaultStreamReceiver rx, String stream) {
    this.rx = rx;
    this.options = rx.options();
    this.stream = stream;
  }

  boolean waiting() {
    return waiting;
  }

  /** Timer: looks for idle entries; claims them if there are any. */
  void tick() {
    if (rx.stopping() || waiting || !busy.compareAndSet(false, true)) {
      return;
    }
    XPendingArgs<String> probe = new XPendingArgs<String>().group(options.group())
        .range(Range.create("-", "+")).limit(Limit.from(1)).idle(options.claimMinIdle());
    rx.bus().connections().commands().xpending(stream, probe).hasElements()
        .subscribe(any -> {
          if (any && !rx.stopping()) {
            cursor = "0-0";
            claim();
          } else {
            busy.set(false);
            rx.maybeComplete();
          }
        }, e -> {
          busy.set(false);
          if (RedisErrors.isNoGroup(e)) {
            rx.bus().ensureGroup(stream, options.group()).subscribe(v -> {}, err -> {});
          } else {
            log.debug("pending probe on {} failed: {}", stream, e.toString());
          }
          rx.maybeComplete();
        });
  }

  /** Called when slots may have been freed: a waiting claim goes first. */
  void resume() {
    if (waiting && !rx.stopping() && busy.compareAndSet(false, true)) {
      claim();
    }
  }

  /** Stops waiting (the receiver is stopping). */
  void cancelWait() {
    if (waiting) {
      waiting = false;
      rx.budget().claimWaiting(false);
    }
  }

  /** Runs with {@code busy} held. */
  private void claim() {
    int n = rx.budget().reserveClaim(options.readCount());
    if (n == 0) {
      if (!waiting) {
        waiting = true;
        rx.budget().claimWaiting(true);
        scheduleRecheck();
      }
      busy.set(false);
      rx.unblockReaders();
      if (rx.budget().hasRoom()) {
        resume(); // a slot was freed meanwhile
      }
      return;
    }
    xautoclaim(n)
        .flatMap(r -> rx.withCounts(stream, r.messages(), 2).map(entries -> new Claimed(r.next(), entries, r.deleted())))
        .subscribe(r -> {
          int emitted = rx.emit(stream, r.entries(), true);
          rx.budget().unreserve(n - emitted);
          if (emitted > 0) {
            rx.metrics().reclaimed(stream, options.group(), emitted);
            log.info("consumer {} claimed {} entries idle over {} on {}", options.consumer(), emitted, options.claimMinIdle(), stream);
          }
          if (!r.deleted().isEmpty()) {
            rx.recordTrimmed(stream, r.deleted(), false);
          }
          cursor = r.next();
          if (!"0-0".equals(cursor) && !rx.stopping()) {
            claim(); // the scan of the pending list goes on
          } else {
            done();
          }
        }, e -> {
          rx.budget().unreserve(n);
          if (RedisErrors.isNoGroup(e)) {
            rx.bus().ensureGroup(stream, options.group()).subscribe(v -> {}, err -> {});
          } else {
            log.warn("claim on {} failed: {}", stream, e.toString());
          }
          done();
        });
  }

  private void done() {
    cancelWait();
    busy.set(false);
    rx.pumpAll();
    rx.maybeComplete();
  }

  private void scheduleRecheck() {
    Mono.delay(RECHECK).subscribe(t -> {
      if (waiting && !rx.stopping()) {
        rx.unblockReaders();
        if (rx.budget().hasRoom()) {
          resume();
        }
        scheduleRecheck();
      }
    });
  }

  private record Raw(String next, List<StreamMessage<String, byte[]>> messages, List<String> deleted) {}

  private record Claimed(String next, List<Entry> entries, List<String> deleted) {}

  /** XAUTOCLAIM with its whole Redis 7 reply: next cursor, claimed entries, deleted ids. */
  private Mono<Raw> xautoclaim(int count) {
    CommandArgs<String, byte[]> args = new CommandArgs<>(RedisStreams.CODEC)
        .addKey(stream)
        .add(options.group())
        .add(options.consumer())
        .add(options.claimMinIdle().toMillis())
        .add(cursor)
        .add("COUNT")
        .add(count);
    return Mono.fromCompletionStage(() -> rx.bus().connections().async()
            .dispatch(CommandType.XAUTOCLAIM, new NestedMultiOutput<>(RedisStreams.CODEC), args))
        .map(this::parse);
  }

  private Raw parse(List<Object> reply) {
    String next = RedisScript.text(reply.get(0));
    List<StreamMessage<String, byte[]>> messages = new ArrayList<>();
    for (Object o : (List<?>) reply.get(1)) {
      List<?> e = (List<?>) o;
      String id = RedisScript.text(e.get(0));
      Map<String, byte[]> body = new LinkedHashMap<>();
      if (e.size() > 1 && e.get(1) instanceof List<?> kv) {
        for (int i = 0; i + 1 < kv.size(); i += 2) {
          body.put(RedisScript.text(kv.get(i)), (byte[]) kv.get(i + 1));
        }
      }
      messages.add(new StreamMessage<>(stream, id, body));
    }
    List<String> deleted = new ArrayList<>();
    if (reply.size() > 2 && reply.get(2) instanceof List<?> d) {
      for (Object o : d) {
        deleted.add(RedisScript.text(o));
      }
    }
    return new Raw(next == null ? "0-0" : next, messages, deleted);
  }
}
