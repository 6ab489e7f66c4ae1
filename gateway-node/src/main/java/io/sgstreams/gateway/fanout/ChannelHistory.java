package io.sgstreams.gateway.fanout;

import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Replays a channel's replies after a {@code Last-Event-ID}: paged {@code XRANGE stream (id + COUNT
 * n} (exclusive start), filtered to the channel, bounded in entries scanned per resume and by the
 * caller's {@link Budget} across resumes. An id older than the stream's first entry (the gap was
 * trimmed away) is served from the journal ({@link Archive}) when it has the gap, else the caller
 * is told to send a reset, as when a bound stops the scan.
 */
public final class ChannelHistory {
  static final int PAGE = 100;
  /** At most this many stream entries are scanned per resume (all channels share the stream). */
  static final int MAX_SCANNED = 20_000;

  /** At most this many replies are replayed from the journal per resume. */
  static final int MAX_ARCHIVED = 10_000;

  private final RedisEventBus bus;
  private final Archive archive;

  public ChannelHistory(RedisEventBus bus) {
    this(bus, null);
  }

  /** @param archive where replies trimmed from the stream are still found (the journal), or null */
  public ChannelHistory(RedisEventBus bus, Archive archive) {
    this.bus = bus;
    this.archive = archive;
  }

  /** Replies kept beyond the stream's retention: the journal. */
  public interface Archive {
    /** The conversation's replies on {@code stream} after {@code afterId}, oldest first, at most {@code limit}. */
    Flux<ReplyEvent> after(String stream, String tenant, String platform, String channel, String afterId, int limit);

    /** Whether every entry of {@code stream} before {@code id} has been archived (or was never to be). */
    Mono<Boolean> coversBefore(String stream, String id);
  }

  /** A caller's allowance of entries to scan; each page is taken from it before it is read. */
  @FunctionalInterface
  public interface Budget {
    Budget UNLIMITED = entries -> Mono.just(true);

    /** Whether {@code entries} more may be scanned now. */
    Mono<Boolean> take(int entries);
  }

  /** What a resume found. */
  public sealed interface Item {}

  /** A missed reply. */
  public record Missed(ReplyEvent event) implements Item {}

  /**
   * A newer attempt of the answer to {@code inReplyTo} has started streaming: the client drops what
   * it has of that answer (SSE / WebSocket {@code reset} naming the reply).
   */
  public record Superseded(String inReplyTo, int attempt) implements Item {}

  /** The client's id is gone from the stream (or the scan bound was hit): it must start over. */
  public record Reset(String reason) implements Item {}

  /**
   * Missed replies of {@code tenant}'s conversation {@code channel} after {@code lastEventId}, in
   * stream order. An id older than the stream's first entry is served from the {@link Archive}
   * (the journal) when there is one and it has every entry before that first one; otherwise the
   * client gets a {@link Reset}.
   */
  public Flux<Item> after(String stream, String tenant, String platform, String channel, String lastEventId,
      Budget budget) {
    return firstId(stream).flatMapMany(first -> {
      if (first.isEmpty() || EntryIds.compare(lastEventId, first) >= 0) {
        return scan(stream, tenant, platform, channel, lastEventId, null, budget);
      }
      String gone = "last event id " + lastEventId + " is older than the oldest retained entry " + first;
      if (archive == null) {
        return Flux.just(new Reset(gone));
      }
      return archive.coversBefore(stream, first)
          .onErrorReturn(false)
          .flatMapMany(covered -> {
            if (!covered) {
              return Flux.just(new Reset(gone + ", and the journal has not recorded everything before it"));
            }
            AtomicReference<String> high = new AtomicReference<>(lastEventId);
            AtomicLong archived = new AtomicLong();
            AtomicBoolean failed = new AtomicBoolean();
            Flux<Item> fromArchive = archive.after(stream, tenant, platform, channel, lastEventId, MAX_ARCHIVED + 1)
                .doOnNext(e -> high.set(e.streamId()))
                .<Item>map(Missed::new)
                .doOnNext(i -> archived.incrementAndGet())
                .onErrorResume(e -> {
                  failed.set(true);
                  return Mono.empty();
                });
            return fromArchive
                .take(MAX_ARCHIVED)
                .concatWith(Flux.defer(() -> {
                  if (failed.get()) {
                    return Flux.just(new Reset(gone + ", and the journal could not be read"));
                  }
                  if (archived.get() >= MAX_ARCHIVED) {
                    return Flux.just(new Reset("more than " + MAX_ARCHIVED + " replies to replay from the journal"));
                  }
                  // then the stream, from its first entry, without what the journal already gave
                  return scan(stream, tenant, platform, channel, lastEventId, high.get(), budget);
                }));
          });
    });
  }

  /**
   * The stream's entries after {@code fromId} for the conversation, paged and bounded; those at or
   * below {@code skipThrough} (already sent) left out.
   */
  private Flux<Item> scan(String stream, String tenant, String platform, String channel, String fromId, String skipThrough,
      Budget budget) {
    AtomicLong scanned = new AtomicLong();
    AtomicBoolean outOfBudget = new AtomicBoolean();
    return page(stream, fromId, budget, outOfBudget)
        .expand(batch -> batch.size() < PAGE || scanned.addAndGet(batch.size()) >= MAX_SCANNED
            ? Mono.empty()
            : page(stream, batch.get(batch.size() - 1).id(), budget, outOfBudget))
        .concatMapIterable(batch -> batch)
        .filter(m -> skipThrough == null || EntryIds.compare(m.id(), skipThrough) > 0)
        .<Item>handle((m, out) -> {
          try {
            OutboundEnvelope o = bus.codec().decode(m.data(), OutboundEnvelope.class);
            if (platform.equals(o.platform()) && channel.equals(o.channelId()) && tenant.equals(o.tenant())) {
              out.next(new Missed(new ReplyEvent(stream, m.id(), o)));
            }
          } catch (RuntimeException e) {
            // undecodable entries are nobody's reply; skip them
          }
        })
        .concatWith(Mono.fromSupplier(() -> outOfBudget.get()
            ? new Reset("resume scan budget exhausted for this minute: start over, or resume later")
            : scanned.get() >= MAX_SCANNED ? new Reset("more than " + MAX_SCANNED + " entries to replay") : null));
  }

  /** The next page, or an empty one (which ends the scan) when the budget has no room for it. */
  private Mono<List<StreamEntry>> page(String stream, String afterId, Budget budget, AtomicBoolean outOfBudget) {
    return budget.take(PAGE).flatMap(ok -> {
      if (!ok) {
        outOfBudget.set(true);
        return Mono.just(List.<StreamEntry>of());
      }
      return bus.range(stream, afterId, PAGE);
    });
  }

  private Mono<String> firstId(String stream) {
    return bus.firstEntryId(stream).defaultIfEmpty("");
  }
}
