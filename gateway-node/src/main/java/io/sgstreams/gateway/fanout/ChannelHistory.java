package io.sgstreams.gateway.fanout;

import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamEntry;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Replays a channel's replies after a {@code Last-Event-ID}: paged {@code XRANGE stream (id + COUNT
 * n} (exclusive start), filtered to the channel, bounded in entries scanned per resume and by the
 * caller's {@link Budget} across resumes. Tells the caller to send a reset when the id is older
 * than the stream's first entry (the gap was trimmed away) or a bound stops the scan.
 */
public final class ChannelHistory {
  static final int PAGE = 100;
  /** At most this many stream entries are scanned per resume (all channels share the stream). */
  static final int MAX_SCANNED = 20_000;

  private final RedisEventBus bus;

  public ChannelHistory(RedisEventBus bus) {
    this.bus = bus;
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

  /** Missed replies of {@code tenant}'s conversation {@code channel} after {@code lastEventId}, in stream order. */
  public Flux<Item> after(String stream, String tenant, String platform, String channel, String lastEventId,
      Budget budget) {
    return firstId(stream).flatMapMany(first -> {
      if (!first.isEmpty() && EntryIds.compare(lastEventId, first) < 0) {
        return Flux.just(new Reset("last event id " + lastEventId + " is older than the oldest retained entry " + first));
      }
      AtomicLong scanned = new AtomicLong();
      AtomicBoolean outOfBudget = new AtomicBoolean();
      return page(stream, lastEventId, budget, outOfBudget)
          .expand(batch -> batch.size() < PAGE || scanned.addAndGet(batch.size()) >= MAX_SCANNED
              ? Mono.empty()
              : page(stream, batch.get(batch.size() - 1).id(), budget, outOfBudget))
          .concatMapIterable(batch -> batch)
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
    });
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
