package io.sgstreams.core.partition;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.topology.StreamKeys;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PartitionedKeysTest {
  private final Topology defaults = Topology.defaults();

  @Test
  void onePartitionKeepsTodaysNames() {
    PartitionedKeys k = new PartitionedKeys(defaults, 1);
    assertEquals("sg:stream:inbound", k.inboundStream(0));
    assertEquals(defaults.inboundStream(), k.inboundStream(0));
    assertEquals("sg:stream:outbound:web", k.outboundStream("web", 0));
    assertEquals(defaults.outboundStream("webhook"), k.outboundStream("webhook", 0));
    assertEquals("sg:stream:dlq", k.dlqStream(0));
    assertEquals("sg:lease:sg:workers", k.leaseKey("sg:workers", 0));
    assertEquals("", k.tag(0));
    assertEquals(List.of("sg:stream:inbound"), k.inboundStreams());
  }

  @Test
  void partitionedNamesEndWithTheSlotAlignedTag() {
    PartitionedKeys k = new PartitionedKeys(defaults, 12);
    assertEquals("sg:stream:inbound:{p0.1}", k.inboundStream(0));
    assertEquals("sg:stream:outbound:web:{p3.23}", k.outboundStream("web", 3));
    assertEquals("sg:stream:dlq:{p11.42}", k.dlqStream(11));
    assertEquals("sg:lease:sg:workers:{p5.2}", k.leaseKey(defaults.workerGroup(), 5));
    assertEquals(12, new HashSet<>(k.inboundStreams()).size());
  }

  @Test
  void everyKeyOfAPartitionSharesItsSlotAndPartitionsDoNot() {
    PartitionedKeys k = new PartitionedKeys(defaults, 24);
    Set<Integer> slots = new HashSet<>();
    for (int i = 0; i < 24; i++) {
      int slot = SlotTags.slot(k.inboundStream(i));
      assertEquals(SlotTags.slot(k.tag(i)), slot);
      assertEquals(slot, SlotTags.slot(k.outboundStream("web", i)));
      assertEquals(slot, SlotTags.slot(k.outboundStream("webhook", i)));
      assertEquals(slot, SlotTags.slot(k.dlqStream(i)));
      assertEquals(slot, SlotTags.slot(k.leaseKey("sg:gateway:webhook", i)));
      assertTrue(slot >= i * 16384 / 24 && slot < (i + 1) * 16384 / 24);
      slots.add(slot);
    }
    assertEquals(24, slots.size());
  }

  @Test
  void configuredNamesWithBracesAreRefusedNamingTheSetting() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> new PartitionedKeys(withInbound("sg:{stream}:inbound"), 12));
    assertEquals("streams.inbound", e.key());
    assertTrue(e.getMessage().contains("SG_INBOUND_STREAM"), e.getMessage());
    assertTrue(e.getMessage().contains("'{'"), e.getMessage());
    ConfigException dlq = assertThrows(ConfigException.class,
        () -> new PartitionedKeys(withDlq("sg:stream:dlq}"), 2));
    assertEquals("streams.dlq", dlq.key());
  }

  @Test
  void bracesInNamesAreStillAcceptedWithOnePartition() {
    // Nothing existing changes: with P = 1 there is no tag for a brace to break.
    assertEquals("sg:{stream}:inbound", new PartitionedKeys(withInbound("sg:{stream}:inbound"), 1).inboundStream(0));
  }

  @Test
  void groupsAndPlatformsWithBracesAreRefused() {
    PartitionedKeys k = new PartitionedKeys(defaults, 12);
    assertThrows(IllegalArgumentException.class, () -> k.leaseKey("sg:{workers}", 0));
    assertThrows(IllegalArgumentException.class, () -> k.outboundStream("{web}", 0));
  }

  @Test
  void partitionsOutsideTheCountAreRefused() {
    PartitionedKeys k = new PartitionedKeys(defaults, 12);
    assertThrows(IllegalArgumentException.class, () -> k.inboundStream(12));
    assertThrows(IllegalArgumentException.class, () -> k.dlqStream(-1));
    assertThrows(IllegalArgumentException.class, () -> new PartitionedKeys(defaults, 0));
  }

  @Test
  void aUserPartCannotMoveAKeyToAnotherSlot() {
    PartitionedKeys k = new PartitionedKeys(defaults, 12);
    String stream = k.inboundStream(3);
    String key = StreamKeys.child(stream, StreamKeys.safeSegment("{p0}"));
    assertEquals(SlotTags.slot(stream), SlotTags.slot(key));
    // A user part placed before the tag is where a raw brace would do harm.
    String safe = StreamKeys.child("sg:idempotency", StreamKeys.safeSegment("{p0}")) + ":{" + k.tag(3) + "}";
    String raw = "sg:idempotency:{p0}:{" + k.tag(3) + "}";
    assertEquals(SlotTags.slot(stream), SlotTags.slot(safe));
    assertNotEquals(SlotTags.slot(stream), SlotTags.slot(raw));
  }

  private Topology withInbound(String inbound) {
    Topology d = defaults;
    return new Topology(inbound, d.workerGroup(), d.outboundStreamPrefix(), d.gatewayGroupPrefix(), d.toolsStream(),
        d.toolsGroup(), d.toolsReplyPrefix(), d.dlqStream(), d.heartbeatPrefix(), d.maxLen(), d.dlqMaxLen(),
        d.platforms(), Duration.ofMinutes(1), d.keysPrefix());
  }

  private Topology withDlq(String dlq) {
    Topology d = defaults;
    return new Topology(d.inboundStream(), d.workerGroup(), d.outboundStreamPrefix(), d.gatewayGroupPrefix(),
        d.toolsStream(), d.toolsGroup(), d.toolsReplyPrefix(), dlq, d.heartbeatPrefix(), d.maxLen(), d.dlqMaxLen(),
        d.platforms(), Duration.ofMinutes(1), d.keysPrefix());
  }
}
