package io.sgstreams.core.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SlotTagsTest {

  @Test
  void crc16IsRedisXmodem() {
    assertEquals(0x31C3, SlotTags.crc16("123456789".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(0, SlotTags.crc16(new byte[0]));
  }

  /** Values from Redis ({@code CLUSTER KEYSLOT}) and its cluster specification. */
  @Test
  void slotsMatchRedis() {
    assertEquals(12182, SlotTags.slot("foo"));
    assertEquals(5061, SlotTags.slot("bar"));
    assertEquals(866, SlotTags.slot("hello"));
    assertEquals(SlotTags.slot("{user1000}.following"), SlotTags.slot("{user1000}.followers"));
    assertEquals(SlotTags.slot("user1000"), SlotTags.slot("{user1000}.following"));
  }

  /** The hash tag rules of the Redis Cluster specification. */
  @Test
  void hashTagsFollowTheClusterSpecification() {
    assertEquals(SlotTags.slot("bar"), SlotTags.slot("foo{bar}{zap}"), "first tag only");
    assertEquals(SlotTags.slot("{bar"), SlotTags.slot("foo{{bar}}zap"), "from the first '{' to the next '}'");
    assertEquals(SlotTags.crc16("foo{}{bar}".getBytes(StandardCharsets.UTF_8)) % 16384, SlotTags.slot("foo{}{bar}"),
        "an empty tag means the whole key");
    assertEquals(SlotTags.crc16("foo{bar".getBytes(StandardCharsets.UTF_8)) % 16384, SlotTags.slot("foo{bar"),
        "an unclosed brace means the whole key");
    assertEquals(SlotTags.slot("bar"), SlotTags.slot("}foo{bar}"), "a '}' before the first '{' does not matter");
  }

  /** Pinned for other languages: tag i of 12 and its slot (docs/wire-contract.md, Partitions). */
  @Test
  void twelveTagsArePinned() {
    assertEquals(List.of("p0.1", "p1.15", "p2.7", "p3.23", "p4.1", "p5.2", "p6.41", "p7.20", "p8.1", "p9.41",
        "p10.23", "p11.42"), SlotTags.tags(12));
    assertEquals(List.of(1099, 2638, 2797, 4787, 6283, 8152, 9234, 10273, 11754, 12540, 14282, 15353),
        SlotTags.tags(12).stream().map(t -> SlotTags.slot("{" + t + "}")).toList());
  }

  @Test
  void everyTagIsTheFirstCandidateInItsRange() {
    for (int p : new int[] {1, 2, 3, 5, 12, 24, 100}) {
      List<String> tags = SlotTags.tags(p);
      assertEquals(p, new HashSet<>(tags).size());
      for (int i = 0; i < p; i++) {
        int slot = SlotTags.slot(tags.get(i));
        assertTrue(slot >= i * 16384 / p && slot < (i + 1) * 16384 / p, tags.get(i) + " of " + p);
        String tag = tags.get(i);
        int n = tag.contains(".") ? Integer.parseInt(tag.substring(tag.indexOf('.') + 1)) : 0;
        assertEquals(n == 0 ? "p" + i : "p" + i + "." + n, tag);
        for (int k = 0; k < n; k++) {
          String earlier = k == 0 ? "p" + i : "p" + i + "." + k;
          int s = SlotTags.slot(earlier);
          assertTrue(s < i * 16384 / p || s >= (i + 1) * 16384 / p, earlier + " would have been first");
        }
      }
    }
    assertEquals("p0", SlotTags.tag(0, 1));
  }

  @Test
  void twelvePartitionsOnThreeMastersAreFourEach() {
    assertEquals(List.of(4, 4, 4), perMaster(slotsOf(SlotTags.tags(12)), 3));
  }

  /** Why the tags are searched: the naive {p0}…{p11} give one of three masters half the partitions. */
  @Test
  void naiveTagsSplitTwelvePartitionsUnevenly() {
    List<String> naive = IntStream.range(0, 12).mapToObj(i -> "p" + i).toList();
    List<Integer> counts = perMaster(slotsOf(naive), 3);
    assertEquals(List.of(3, 3, 6), counts);
    assertNotEquals(List.of(4, 4, 4), counts);
  }

  @Test
  void twentyFourPartitionsOnOneToSixMastersAreWithinOneOfEqual() {
    List<Integer> slots = slotsOf(SlotTags.tags(24));
    for (int masters = 1; masters <= 6; masters++) {
      List<Integer> counts = perMaster(slots, masters);
      assertEquals(24, counts.stream().mapToInt(Integer::intValue).sum());
      for (int c : counts) {
        assertTrue(Math.abs(c - 24.0 / masters) <= 1, masters + " masters: " + counts);
      }
    }
    // The naive tags do not: with 6 masters one gets 2 and two get 6.
    List<Integer> naive = perMaster(slotsOf(IntStream.range(0, 24).mapToObj(i -> "p" + i).toList()), 6);
    assertTrue(naive.stream().anyMatch(c -> Math.abs(c - 4) > 1), naive.toString());
  }

  @Test
  void theLargestSupportedCountFindsEveryTag() {
    List<String> tags = SlotTags.tags(SlotTags.MAX_PARTITIONS);
    assertEquals(SlotTags.MAX_PARTITIONS, new HashSet<>(tags).size());
    assertEquals(List.of(1, 1, 1, 1), perMaster(slotsOf(tags.subList(0, 4)), 1024).subList(0, 4));
  }

  @Test
  void badArgumentsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> SlotTags.tags(0));
    assertThrows(IllegalArgumentException.class, () -> SlotTags.tags(SlotTags.MAX_PARTITIONS + 1));
    assertThrows(IllegalArgumentException.class, () -> SlotTags.tag(12, 12));
    assertThrows(IllegalArgumentException.class, () -> SlotTags.tag(-1, 12));
  }

  private static List<Integer> slotsOf(List<String> tags) {
    return tags.stream().map(t -> SlotTags.slot("sg:stream:inbound:{" + t + "}")).toList();
  }

  /** Partitions per master, masters owning equal contiguous slot ranges. */
  private static List<Integer> perMaster(List<Integer> slots, int masters) {
    List<Integer> counts = new ArrayList<>();
    for (int m = 0; m < masters; m++) {
      int lo = m * 16384 / masters;
      int hi = (m + 1) * 16384 / masters;
      counts.add((int) slots.stream().filter(s -> s >= lo && s < hi).count());
    }
    return counts;
  }
}
