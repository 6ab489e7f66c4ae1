package io.sgstreams.bench.roundtrip;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;

/**
 * The load generator's book of requests by sequence number: when each outstanding one was due,
 * and which were answered. A ring indexed by {@code seq & mask} (outstanding requests are a
 * sliding window of sequence numbers), grown when a new request would land on a slot an older
 * one still holds, up to {@link #MAX_RING} slots; beyond that the request holding the slot
 * (usually an older one, lost or answered very late) moves to a map. One lock per send and per
 * reply. It replaced a {@code ConcurrentHashMap} keyed by correlation id whose put and remove were
 * 6 % of the closed loop's CPU samples, the benchmark's own cost rather than the pipeline's
 * (docs/performance.md).
 */
final class Ledger {
  /** {@link #answer} of a request answered before. */
  static final long DUPLICATE = Long.MIN_VALUE;
  /** {@link #answer} of a sequence number this phase never sent, or sent and then failed ({@link #failed}). */
  static final long UNKNOWN = Long.MIN_VALUE + 1;

  /** Slots at most: a ring this big holds 65,536 outstanding sequence numbers (0.75 MB). */
  static final int MAX_RING = 1 << 16;

  private long[] due;
  /** {@code seq + 1} of the request holding each slot; 0 = free. */
  private int[] holder;
  private int size;
  /** Answered in this phase, by sequence number: one bit per request, constant memory for the soak. */
  private final BitSet answered = new BitSet();
  /** Outstanding requests pushed out of the full-grown ring by newer ones. */
  private final HashMap<Integer, Long> overflow = new HashMap<>();

  Ledger(int initialCapacity) {
    int want = Math.min(MAX_RING, Math.max(16, initialCapacity));
    int cap = Integer.highestOneBit(want - 1) << 1; // the power of two >= want
    due = new long[cap];
    holder = new int[cap];
  }

  /** Records request {@code seq} (≥ 0, not recorded before in this phase) as due at {@code dueNanos}. */
  synchronized void sent(int seq, long dueNanos) {
    if (seq < 0) {
      throw new IllegalArgumentException("sequence numbers start at 0: " + seq);
    }
    int slot;
    while (holder[slot = seq & (holder.length - 1)] != 0 && holder.length < MAX_RING) {
      grow();
    }
    if (holder[slot] != 0) {
      overflow.put(holder[slot] - 1, due[slot]);
    }
    holder[slot] = seq + 1;
    due[slot] = dueNanos;
    size++;
  }

  /**
   * Request {@code seq} was answered: its due time if it was outstanding (now answered), else
   * {@link #DUPLICATE} (answered before) or {@link #UNKNOWN}.
   */
  synchronized long answer(int seq) {
    long due = take(seq);
    if (due != UNKNOWN) {
      answered.set(seq);
      return due;
    }
    return seq >= 0 && answered.get(seq) ? DUPLICATE : UNKNOWN;
  }

  /** Request {@code seq} failed (an error answer): true if it was outstanding, now no longer. */
  synchronized boolean failed(int seq) {
    return take(seq) != UNKNOWN;
  }

  /** Removes outstanding request {@code seq} from the ring or the map: its due time, or {@link #UNKNOWN}. */
  private long take(int seq) {
    if (seq < 0) {
      return UNKNOWN;
    }
    int slot = seq & (holder.length - 1);
    if (holder[slot] == seq + 1) {
      holder[slot] = 0;
      size--;
      return due[slot];
    }
    Long late = overflow.isEmpty() ? null : overflow.remove(seq);
    if (late == null) {
      return UNKNOWN;
    }
    size--;
    return late;
  }

  /** Requests sent and neither answered nor failed. */
  synchronized int outstanding() {
    return size;
  }

  synchronized void clear() {
    Arrays.fill(holder, 0);
    overflow.clear();
    size = 0;
    answered.clear();
  }

  synchronized int capacity() {
    return holder.length;
  }

  private void grow() {
    int[] oldHolder = holder;
    long[] oldDue = due;
    int cap = oldHolder.length << 1;
    if (cap <= 0) {
      throw new IllegalStateException("more outstanding requests than a ring can hold");
    }
    holder = new int[cap];
    due = new long[cap];
    for (int i = 0; i < oldHolder.length; i++) {
      int h = oldHolder[i];
      if (h != 0) {
        int slot = (h - 1) & (cap - 1);
        holder[slot] = h; // distinct outstanding sequence numbers within one old slot class stay distinct
        due[slot] = oldDue[i];
      }
    }
  }
}
