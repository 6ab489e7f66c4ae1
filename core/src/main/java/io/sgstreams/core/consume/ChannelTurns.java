package io.sgstreams.core.consume;

import reactor.core.publisher.Mono;

/**
 * Cross-worker order per conversation ({@code SG_ORDERING=channel-lock}, shared assignment): each
 * new entry of a conversation got a ticket in that conversation's queue when the group delivered it
 * (in the read script, atomically with the read, so tickets are in stream order whichever worker
 * read them). An entry runs only once it is at the head of its queue: every earlier entry of the
 * conversation has been acknowledged or dead-lettered, by whichever worker held it. The queue key
 * shares the stream's slot ({@code Topology#channelTicketsPrefix}).
 *
 * <p>The {@link Router} asks {@link #isTurn} for the earliest entry it holds of a conversation,
 * waits (polling with backoff, {@linkplain #parked parked}) while another worker's entry is ahead,
 * and calls {@link #finished} once the entry ran.
 */
public interface ChannelTurns {
  /** The queue of {@code d}'s conversation; null when it has none (undecodable, no platform or channel): it runs at once. */
  String conversation(Delivery d);

  /**
   * Whether {@code d} may run: its ticket is at the head of its conversation's queue (heads already
   * settled are popped on the way), or it has no ticket and nothing earlier is queued.
   */
  Mono<Boolean> isTurn(Delivery d);

  /**
   * {@code d} ran (its handler and settling are over): its ticket leaves the queue, with every settled
   * ticket behind it at the head. If {@code d} is still pending under this consumer (its handler failed
   * or Redis refused the ack), its ticket is removed all the same: the conversation goes on and the
   * retry, after {@code claim_min_idle}, runs out of turn, as a retried entry does within one worker.
   * If another consumer took it over meanwhile, its ticket stays: the new owner runs it in turn.
   */
  Mono<Void> finished(Delivery d);

  /**
   * {@code d} is given back without running (it waited too long, or the worker stops): it stays
   * pending and keeps its ticket, and its delivery count goes back by one, so the claim that brings it
   * back does not count as a failed attempt towards the dead-letter limit.
   */
  Mono<Void> deferred(Delivery d);

  /**
   * {@code delta} more (or fewer) of this worker's entries are parked: denied their turn because an
   * entry of another worker is ahead. Claims may exceed the in-flight bound by that many, so the entry
   * they wait for can be claimed if its worker died (reads stay within the bound).
   */
  default void parked(int delta) {}
}
