package io.sgstreams.core.partition;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Redis Cluster key slots and the hash tags that place each partition's keys on its own slot.
 *
 * <p>Redis Cluster hashes a key to one of {@value #SLOTS} slots with CRC16-XMODEM (polynomial
 * {@code 0x1021}, initial value 0, no reflection), hashing only the hash tag when the key has one
 * (the bytes between the first {@code '{'} and the first {@code '}'} after it, if not empty). All
 * keys of one partition (its streams, its lease) carry the same tag so that a script or
 * transaction may touch them together, and different partitions should sit on different masters.
 *
 * <p>The naive tags {@code p0}…{@code p11} land wherever their CRC puts them: with 12 partitions
 * on 3 masters one master gets 6 of them. So tag {@code i} of {@code P} is instead the first of
 * {@code p<i>}, {@code p<i>.1}, {@code p<i>.2}, … whose slot lies in the i-th of {@code P} equal
 * slot ranges ({@code [i*16384/P, (i+1)*16384/P)}, integer division). Masters owning equal
 * contiguous slot ranges (about what {@code redis-cli --cluster create} sets up) then get partitions
 * within one of an equal share, and any program can recompute the tags from {@code P} alone.
 */
public final class SlotTags {
  /** Slots of a Redis Cluster. */
  public static final int SLOTS = 16384;

  /**
   * Most partitions supported: beyond this a range holds under 16 slots and finding a tag costs
   * thousands of tries per partition, for no gain (a cluster has far fewer masters).
   */
  public static final int MAX_PARTITIONS = 1024;

  private SlotTags() {}

  /** CRC16-XMODEM of {@code bytes}, as Redis's {@code crc16()} (of {@code "123456789"}: {@code 0x31C3}). */
  public static int crc16(byte[] bytes) {
    int crc = 0;
    for (byte b : bytes) {
      crc ^= (b & 0xff) << 8;
      for (int bit = 0; bit < 8; bit++) {
        crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
      }
      crc &= 0xffff;
    }
    return crc;
  }

  /** The cluster slot of {@code key} (UTF-8), honouring its hash tag as Redis does. */
  public static int slot(String key) {
    byte[] b = key.getBytes(StandardCharsets.UTF_8);
    int open = indexOf(b, (byte) '{', 0);
    if (open >= 0) {
      int close = indexOf(b, (byte) '}', open + 1);
      if (close > open + 1) {
        byte[] tag = new byte[close - open - 1];
        System.arraycopy(b, open + 1, tag, 0, tag.length);
        return crc16(tag) % SLOTS;
      }
    }
    return crc16(b) % SLOTS;
  }

  /** First slot of partition {@code i}'s range of {@code partitions}: {@code i*16384/partitions}. */
  public static int rangeStart(int i, int partitions) {
    return (int) ((long) i * SLOTS / partitions);
  }

  /**
   * Tag (without braces) of partition {@code i} of {@code partitions}: the first of {@code p<i>},
   * {@code p<i>.1}, … whose slot is in {@code [rangeStart(i), rangeStart(i+1))}.
   */
  public static String tag(int i, int partitions) {
    requirePartitions(partitions);
    if (i < 0 || i >= partitions) {
      throw new IllegalArgumentException("partition " + i + " is not in 0.." + (partitions - 1));
    }
    int lo = rangeStart(i, partitions);
    int hi = rangeStart(i + 1, partitions);
    // Each try lands in the range with probability (hi-lo)/16384 >= 1/1024, so a million tries
    // failing would mean a broken CRC rather than bad luck.
    for (int n = 0; n < 1_000_000; n++) {
      String candidate = n == 0 ? "p" + i : "p" + i + "." + n;
      int s = crc16(candidate.getBytes(StandardCharsets.UTF_8)) % SLOTS;
      if (s >= lo && s < hi) {
        return candidate;
      }
    }
    throw new IllegalStateException("no tag found for partition " + i + " of " + partitions);
  }

  /** The tags of partitions 0 to {@code partitions - 1} ({@link #tag}). */
  public static List<String> tags(int partitions) {
    requirePartitions(partitions);
    List<String> out = new ArrayList<>(partitions);
    for (int i = 0; i < partitions; i++) {
      out.add(tag(i, partitions));
    }
    return List.copyOf(out);
  }

  public static int requirePartitions(int partitions) {
    if (partitions < 1 || partitions > MAX_PARTITIONS) {
      throw new IllegalArgumentException("partitions must be 1.." + MAX_PARTITIONS + ", got " + partitions);
    }
    return partitions;
  }

  private static int indexOf(byte[] b, byte c, int from) {
    for (int i = from; i < b.length; i++) {
      if (b[i] == c) {
        return i;
      }
    }
    return -1;
  }
}
