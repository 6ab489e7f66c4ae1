package io.sgstreams.core.partition;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Which of {@code partitions} streams a conversation lives on.
 *
 * <p>Ordering is promised per (tenant, platform, channel), so everything of one conversation must
 * land on one partition, and every program that publishes (in any language) must compute the same
 * partition. Hence a function that is trivial to reproduce: CRC-32 (IEEE, as {@link CRC32} and
 * Python's {@code zlib.crc32}) of {@code tenant_id}, a {@code 0x00} byte, {@code platform},
 * {@code 0x00}, {@code channel_id}, each UTF-8, taken unsigned modulo the partition count. The
 * {@code 0x00} separators keep ({@code "ab","c"}) and ({@code "a","bc"}) apart (none of the three
 * values can contain a NUL that matters: a NUL inside one would only move a conversation, never
 * split it). The function is pinned by the vectors in {@code docs/wire-contract.md} (Partitions).
 *
 * <p>Not wired into the bus yet: this is the contract other programs integrate against.
 *
 * @param partitions how many partitions, 1 to {@link SlotTags#MAX_PARTITIONS}
 */
public record Partitioner(int partitions) {

  public Partitioner {
    SlotTags.requirePartitions(partitions);
  }

  /**
   * The unsigned CRC-32 of the conversation key: {@code tenant 0x00 platform 0x00 channel}, UTF-8.
   * A null tenant hashes as the empty string (an envelope without {@code tenant_id}).
   */
  public static long hash(String tenantId, String platform, String channelId) {
    if (platform == null || channelId == null) {
      throw new IllegalArgumentException("platform and channel_id are required to pick a partition");
    }
    CRC32 crc = new CRC32();
    crc.update((tenantId == null ? "" : tenantId).getBytes(StandardCharsets.UTF_8));
    crc.update(0);
    crc.update(platform.getBytes(StandardCharsets.UTF_8));
    crc.update(0);
    crc.update(channelId.getBytes(StandardCharsets.UTF_8));
    return crc.getValue();
  }

  /** The partition, 0 to {@code partitions - 1}, of a conversation: {@link #hash} mod {@code partitions}. */
  public int partitionOf(String tenantId, String platform, String channelId) {
    return (int) (hash(tenantId, platform, channelId) % partitions);
  }
}
