package io.sgstreams.core.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

class PartitionerTest {

  /** The vectors of docs/wire-contract.md (Partitions): any implementation must give these. */
  @Test
  void theWireContractVectorsHold() {
    Partitioner p12 = new Partitioner(12);
    assertEquals(0x9e511b33L, Partitioner.hash("default", "web", "c-42"));
    assertEquals(11, p12.partitionOf("default", "web", "c-42"));
    assertEquals(0x01bc54e1L, Partitioner.hash("acme", "webhook", "room/7"));
    assertEquals(9, p12.partitionOf("acme", "webhook", "room/7"));
    assertEquals(0x291d6fd6L, Partitioner.hash("", "web", ""));
    assertEquals(2, p12.partitionOf("", "web", ""));
  }

  @Test
  void theHashIsCrc32OfTenantNulPlatformNulChannelInUtf8() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes("tenant-é".getBytes(StandardCharsets.UTF_8));
    b.write(0);
    b.writeBytes("web".getBytes(StandardCharsets.UTF_8));
    b.write(0);
    b.writeBytes("chan✓".getBytes(StandardCharsets.UTF_8));
    CRC32 crc = new CRC32();
    crc.update(b.toByteArray());
    assertEquals(crc.getValue(), Partitioner.hash("tenant-é", "web", "chan✓"));
  }

  @Test
  void aMissingTenantHashesAsTheEmptyString() {
    assertEquals(Partitioner.hash("", "web", "c-42"), Partitioner.hash(null, "web", "c-42"));
    assertNotEquals(Partitioner.hash("default", "web", "c-42"), Partitioner.hash(null, "web", "c-42"));
  }

  @Test
  void theSeparatorsKeepShiftedFieldsApart() {
    assertNotEquals(Partitioner.hash("ab", "c", "d"), Partitioner.hash("a", "bc", "d"));
    assertNotEquals(Partitioner.hash("a", "b", "cd"), Partitioner.hash("a", "bc", "d"));
  }

  @Test
  void theModuloIsUnsigned() {
    // 0x9e511b33 has the top bit set: taken as a signed int its remainder would be negative.
    assertTrue(0x9e511b33 % 7 < 0);
    assertEquals((int) (0x9e511b33L % 7), new Partitioner(7).partitionOf("default", "web", "c-42"));
  }

  @Test
  void channelsSpreadOverEveryPartition() {
    Partitioner p = new Partitioner(12);
    int[] counts = new int[12];
    for (int i = 0; i < 12_000; i++) {
      counts[p.partitionOf("default", "web", "channel-" + i)]++;
    }
    for (int c : counts) {
      assertTrue(c > 800 && c < 1200, () -> java.util.Arrays.toString(counts));
    }
  }

  @Test
  void onePartitionTakesEverything() {
    assertEquals(0, new Partitioner(1).partitionOf("acme", "webhook", "room/7"));
  }

  @Test
  void partitionCountsOutsideTheSupportedRangeAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new Partitioner(0));
    assertThrows(IllegalArgumentException.class, () -> new Partitioner(SlotTags.MAX_PARTITIONS + 1));
    assertThrows(IllegalArgumentException.class, () -> Partitioner.hash("t", null, "c"));
  }
}
