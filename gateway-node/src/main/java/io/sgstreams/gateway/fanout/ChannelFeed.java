package io.sgstreams.gateway.fanout;

import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.config.Topology;
import java.util.concurrent.atomic.AtomicReference;
import reactor.core.publisher.Flux;

/**
 * One client's view of a conversation (tenant, platform, channel): the replies missed since {@code Last-Event-ID} (from the
 * stream), then live ones (from the hub), without gap or duplicate. The live subscription is
 * registered before history is read; live entries at or below the last id already sent are
 * skipped.
 */
public final class ChannelFeed {
  private final ReplyHub hub;
  private final ChannelHistory history;
  private final Topology topology;

  public ChannelFeed(ReplyHub hub, ChannelHistory history, Topology topology) {
    this.hub = hub;
    this.history = history;
    this.topology = topology;
  }

  /**
   * Cold: registers on subscribe. Emits {@link ChannelHistory.Missed}, {@link ChannelHistory.Reset}
   * and {@link ChannelHistory.Superseded} items (see {@link Generations}: an older attempt's deltas
   * never follow a newer one's, the final reply always passes); errors with {@link SlowConsumerException} when the client falls too far behind.
   *
   * @param lastEventId the last stream id the client saw, or null for live replies only
   * @param budget the caller's scan allowance for the replay
   */
  public Flux<ChannelHistory.Item> open(String tenant, String platform, String channel, String lastEventId,
      ChannelHistory.Budget budget) {
    return Flux.defer(() -> {
      ReplyHub.Subscriber sub = hub.subscribe(tenant, platform, channel);
      AtomicReference<String> high = new AtomicReference<>(lastEventId);
      Flux<ChannelHistory.Item> missed = lastEventId == null
          ? Flux.empty()
          : history.after(topology.outboundStream(platform, topology.partitionOf(tenant, platform, channel)), tenant, platform, channel, lastEventId, budget)
              .doOnNext(i -> {
                if (i instanceof ChannelHistory.Missed m) {
                  high.set(m.event().streamId());
                }
              });
      Flux<ChannelHistory.Item> live = sub.flux()
          .filter(e -> {
            String h = high.get();
            return h == null || EntryIds.compare(e.streamId(), h) > 0;
          })
          .map(ChannelHistory.Missed::new);
      Generations generations = new Generations();
      return missed.concatWith(live)
          .concatMapIterable(generations::admit)
          .doFinally(s -> sub.close());
    });
  }
}
