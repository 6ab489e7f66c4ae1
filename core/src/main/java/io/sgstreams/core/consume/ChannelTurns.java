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
 * <p>The {@link Router} asks {@link #turn} for the earliest entry it holds of a conversation,
 * waits (polling with backoff, {@linkplain #parked parked}) while another worker's entry is ahead,
 * and calls {@link #finished} once the entry ran.
 */
public interface ChannelTurns {
  /** The queue of {@code d}'s conversation; null when it has none (undecodable, no platform or channel): it runs at once. */
  String conversation(Delivery d);

  /** The answer to {@link #turn}. */
  enum Turn {
    /** Run it: every earlier entry of its conversation is settled (or it has no ticket and nothing earlier is queued). */
    YOURS,
    /** An earlier entry of its conversation is still pending (here or on another worker): ask again later. */
    WAIT,
    /** It is no longer pending under this consumer (acknowledged elsewhere, or taken over): never run it here. */
    GONE
  }

  /** Whether {@code d}, of queue {@code conversation} ({@link #conversation}), may run now (settled heads are popped on the way). */
  Mono<Turn> turn(String conversation, Delivery d);

  /**
   * {@code d} ran (its handler and settling are over): settled tickets at the head of its queue are
   * popped. If {@code d} is still pending (its handler failed, or Redis refused the ack) its ticket stays
   * at the head: the conversation waits for its retry (claimed after {@code claim_min_idle}) or its dead
   * letter, so it is never overtaken.
   */
  Mono<Void> finished(String conversation, Delivery d);

  /**
   * {@code d} is given back without running (the worker stops): it stays
   * pending and keeps its ticket, and its delivery count goes back by one, so the claim that brings it
   * back does not count as a failed attempt towards the dead-letter limit.
   */
  Mono<Void> deferred(Delivery d);

  /**
   * {@code delta} more (or fewer) of this worker's entries are parked: waiting for their turn. Claims
   * may exceed the in-flight bound by that many, so the entry they wait for can be claimed when its
   * worker died or its retry is due (reads stay within the bound).
   */
  default void parked(int delta) {}
}
