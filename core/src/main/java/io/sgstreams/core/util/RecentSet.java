package io.sgstreams.core.util;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.commons.codec.digest.MurmurHash3;

/**
 * The keys seen lately, bounded: at most {@code capacity} keys (oldest evicted first) and, with a
 * window, none older than the window. The one recent-id set of the project: the consumer engine's
 * recently acknowledged entries (by count) and the gateway's duplicate-reply filter (by time,
 * capped). Keys pushed out by the capacity while still inside the window are counted
 * ({@link #evictedEarly()}): a duplicate of one of them would no longer be caught.
 *
 * <p>A key is kept as its 128-bit MurmurHash3 fingerprint in primitive arrays (a ring in insertion
 * order and an open-addressing index): 32 bytes per key and no object per key. The earlier
 * {@code LinkedHashMap<String, Long>} took ~185 bytes and four objects per key; the gateway's
 * 500,000-key filter outgrew the default heap's old generation after ~70 s at 5,000 replies/s, and
 * every entry aged through a dozen young collections before that. Two different keys share a
 * fingerprint with probability ~2<sup>-128</sup> per pair: a set of a million keys mistakes a new
 * key for a remembered one with probability below 10<sup>-32</sup> per lookup.
 */
public final class RecentSet {
  private static final int SEED = 0x5ec0_11d5;
  private static final int MIN_RING = 16;

  private final int capacity;
  private final long windowNanos;
  private final LongSupplier clock;
  private long evictedEarly;

  /** The keys in insertion order, oldest at {@code head}: fingerprint halves and the time added. */
  private long[] hi = new long[MIN_RING];
  private long[] lo = new long[MIN_RING];
  private long[] at = new long[MIN_RING];
  private int head;
  private int size;
  /** Linear-probing index over the ring: slot + 1, 0 for empty; twice the ring's length. */
  private int[] index = new int[2 * MIN_RING];
  /** The bytes hashed (guarded by this). */
  private byte[] scratch = new byte[256];

  private RecentSet(int capacity, Duration window, LongSupplier clock) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive");
    }
    this.capacity = capacity;
    this.windowNanos = window == null ? Long.MAX_VALUE : window.toNanos();
    this.clock = clock;
  }

  /** The last {@code capacity} keys. */
  public static RecentSet lastN(int capacity) {
    return new RecentSet(capacity, null, System::nanoTime);
  }

  /** The keys of the last {@code window}, at most {@code capacity} of them. */
  public static RecentSet within(Duration window, int capacity) {
    return new RecentSet(capacity, window, System::nanoTime);
  }

  /** As {@link #within}, on a clock of nanoseconds (tests). */
  public static RecentSet within(Duration window, int capacity, LongSupplier nanoClock) {
    return new RecentSet(capacity, window, nanoClock);
  }

  /** Remembers {@code key}; true the first time it is added while remembered. */
  public synchronized boolean add(CharSequence key) {
    return add(fingerprint(key, null));
  }

  /** Remembers the pair ({@code a}, {@code b}); ("ab", "c") and ("a", "bc") are different keys. */
  public synchronized boolean add(CharSequence a, CharSequence b) {
    return add(fingerprint(a, b));
  }

  /** Whether {@code key} is remembered (and, with a window, still inside it). */
  public synchronized boolean contains(CharSequence key) {
    return contains(fingerprint(key, null));
  }

  /** Whether the pair ({@code a}, {@code b}) is remembered (and, with a window, still inside it). */
  public synchronized boolean contains(CharSequence a, CharSequence b) {
    return contains(fingerprint(a, b));
  }

  public synchronized int size() {
    return size;
  }

  /** Keys dropped by the capacity while still inside the window (always 0 without a window). */
  public synchronized long evictedEarly() {
    return evictedEarly;
  }

  private boolean add(long[] fp) {
    long now = clock.getAsLong();
    while (size > 0) {
      boolean expired = windowNanos != Long.MAX_VALUE && now - at[head] > windowNanos;
      if (!expired && size < capacity) {
        break;
      }
      if (!expired && windowNanos != Long.MAX_VALUE) {
        evictedEarly++;
      }
      removeOldest();
    }
    if (find(fp[0], fp[1]) >= 0) {
      return false;
    }
    if (size == hi.length) {
      grow();
    }
    int slot = (head + size) % hi.length;
    hi[slot] = fp[0];
    lo[slot] = fp[1];
    at[slot] = now;
    size++;
    insert(slot);
    return true;
  }

  private boolean contains(long[] fp) {
    int pos = find(fp[0], fp[1]);
    return pos >= 0 && (windowNanos == Long.MAX_VALUE || clock.getAsLong() - at[index[pos] - 1] <= windowNanos);
  }

  /** The 128-bit fingerprint of the UTF-16 code units of {@code a} (and of {@code b}), each part length-prefixed. */
  private long[] fingerprint(CharSequence a, CharSequence b) {
    int need = 4 + 2 * a.length() + (b == null ? 0 : 4 + 2 * b.length());
    byte[] buf = need <= scratch.length ? scratch : new byte[need];
    int n = put(buf, 0, a);
    if (b != null) {
      n = put(buf, n, b);
    }
    if (buf != scratch && need <= 4096) {
      scratch = buf;
    }
    return MurmurHash3.hash128x64(buf, 0, n, SEED);
  }

  private static int put(byte[] buf, int at, CharSequence s) {
    int len = s.length();
    buf[at++] = (byte) (len >>> 24);
    buf[at++] = (byte) (len >>> 16);
    buf[at++] = (byte) (len >>> 8);
    buf[at++] = (byte) len;
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      buf[at++] = (byte) (c >>> 8);
      buf[at++] = (byte) c;
    }
    return at;
  }

  private int home(long h) {
    return (int) (h ^ (h >>> 32)) & (index.length - 1);
  }

  /** The index position holding this fingerprint, or -1. */
  private int find(long h, long l) {
    int mask = index.length - 1;
    for (int i = home(h); ; i = (i + 1) & mask) {
      int v = index[i];
      if (v == 0) {
        return -1;
      }
      if (hi[v - 1] == h && lo[v - 1] == l) {
        return i;
      }
    }
  }

  private void insert(int slot) {
    int mask = index.length - 1;
    int i = home(hi[slot]);
    while (index[i] != 0) {
      i = (i + 1) & mask;
    }
    index[i] = slot + 1;
  }

  private void removeOldest() {
    int mask = index.length - 1;
    int i = home(hi[head]);
    while (index[i] != head + 1) {
      i = (i + 1) & mask;
    }
    // backward-shift deletion: later entries of the probe run move up so lookups stay correct
    index[i] = 0;
    for (int j = (i + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
      int k = home(hi[index[j] - 1]);
      boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        index[i] = index[j];
        index[j] = 0;
        i = j;
      }
    }
    head = (head + 1) % hi.length;
    size--;
  }

  /** Doubles the ring (never past what the capacity needs), oldest first again, and rebuilds the index. */
  private void grow() {
    int len = hi.length;
    int next = (int) Math.min((long) len * 2, Math.max(capacity, MIN_RING));
    if (next <= len) {
      throw new IllegalStateException("ring full below capacity"); // not reached: eviction keeps size < capacity
    }
    long[] nh = new long[next];
    long[] nl = new long[next];
    long[] na = new long[next];
    for (int i = 0; i < size; i++) {
      int s = (head + i) % len;
      nh[i] = hi[s];
      nl[i] = lo[s];
      na[i] = at[s];
    }
    hi = nh;
    lo = nl;
    at = na;
    head = 0;
    index = new int[Integer.highestOneBit(next - 1) << 2];
    for (int i = 0; i < size; i++) {
      insert(i);
    }
  }
}
