package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.Topology;
import io.sgstreams.core.topology.StreamPolicy;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** How a stream is trimmed and when publishing is refused, from one reading (no Redis). */
class TrimPlanTest {
  private final Topology t = Topology.defaults().withMaxLen(1000);
  private final String inbound = t.inboundStream();

  private static GroupInfo group(String name, long pending, String lastDelivered, Long lag) {
    return new GroupInfo(name, 1, pending, lastDelivered, OptionalLong.empty(), lag == null ? OptionalLong.empty() : OptionalLong.of(lag));
  }

  private static StreamState state(String stream, long length, List<GroupInfo> groups, Map<String, String> oldestPending) {
    return new StreamState(stream, true, length, groups, oldestPending, 1_000_000);
  }

  @Test
  void aWorkStreamKeepsFromTheOldestPendingOrUndeliveredEntry() {
    TrimPlan p = TrimPlan.of(t.policyFor(inbound),
        state(inbound, 500, List.of(group("sg:workers", 3, "100-5", 200L)), Map.of("sg:workers", "90-0")));
    assertEquals("90-0", p.minId());
    assertEquals(0, p.maxLen());
    assertEquals(203, p.backlog(), "pending + undelivered");
    assertTrue(p.isWorkStream());
    assertFalse(p.refuses(0));
    assertEquals(797, p.headroom(0));

    TrimPlan idle = TrimPlan.of(t.policyFor(inbound), state(inbound, 10, List.of(group("sg:workers", 0, "100-5", 0L)), Map.of()));
    assertEquals("100-6", idle.minId(), "everything delivered and acknowledged: trim up to the next entry");
  }

  @Test
  void aMissingRequiredWorkGroupKeepsEverything() {
    TrimPlan p = TrimPlan.of(t.policyFor(inbound), state(inbound, 700, List.of(), Map.of()));
    assertEquals(EntryIds.FIRST, p.minId(), "MINID 0-1 trims nothing");
    assertEquals(700, p.backlog());
    assertEquals("sg:workers", p.backlogGroup());
    assertTrue(p.isWorkStream());
    assertTrue(p.refuses(300), "700 + 300 reaches the cap");
    assertFalse(p.refuses(299));
  }

  @Test
  void anUnknownLagCountsAsTheWholeStream() {
    TrimPlan p = TrimPlan.of(t.policyFor(inbound), state(inbound, 640, List.of(group("sg:workers", 2, "5-0", null)), Map.of("sg:workers", "4-0")));
    assertEquals(642, p.backlog());
  }

  @Test
  void theSlowestWorkGroupAndObserversWithinTheCapHoldTrimmingBack() {
    String webhook = t.outboundStream("webhook");
    StreamPolicy policy = t.policyFor(webhook);
    assertTrue(policy.refusesWhenFull());
    TrimPlan p = TrimPlan.of(policy, state(webhook, 900, List.of(
        group("sg:gateway:webhook", 0, "50-0", 10L),
        group("journal", 0, "20-0", 800L),
        group("stale", 0, "1-0", 1200L)), Map.of()));
    assertEquals("20-1", p.minId(), "the observer within the cap holds it back");
    assertEquals(List.of("stale"), p.overtaken(), "more than a cap behind: no longer waited for");
    assertEquals(10, p.backlog(), "observers never count towards refusal");
    assertFalse(p.refuses(0));
  }

  @Test
  void theWebhookStreamIsCappedByLengthWhileItsGroupDoesNotExist() {
    String webhook = t.outboundStream("webhook");
    TrimPlan p = TrimPlan.of(t.policyFor(webhook), state(webhook, 5000, List.of(), Map.of()));
    assertNull(p.minId());
    assertEquals(1000, p.maxLen());
    assertFalse(p.isWorkStream());
    assertFalse(p.refuses(1_000_000));
  }

  @Test
  void tailedStreamsAndTheDlqAreCappedByLengthAndNeverRefuse() {
    String web = t.outboundStream("web");
    TrimPlan p = TrimPlan.of(t.policyFor(web), state(web, 5000, List.of(group("sg:gateway:web", 0, "0-0", 5000L)), Map.of()));
    assertEquals(1000, p.maxLen());
    assertNull(p.minId());
    assertEquals(List.of("sg:gateway:web"), p.overtaken(), "a group nobody reads does not hold trimming back");
    assertFalse(p.refuses(Long.MAX_VALUE / 4));
    assertEquals(Long.MAX_VALUE, p.headroom(0));
    assertEquals(t.dlqMaxLen(), TrimPlan.of(t.policyFor(t.dlqStream()), state(t.dlqStream(), 1, List.of(), Map.of())).maxLen());
    String reply = t.toolsReplyStream("worker-a");
    assertFalse(t.policyFor(reply).refusesWhenFull(), "a tool reply is never refused");
  }

  @Test
  void aWorkStreamHoldingTwiceItsCapIsRefusedWhateverTheBacklog() {
    TrimPlan p = TrimPlan.of(t.policyFor(inbound),
        state(inbound, 1990, List.of(group("sg:workers", 1, "3000-0", 0L)), Map.of("sg:workers", "10-0")));
    assertEquals(1, p.backlog());
    assertFalse(p.refuses(9));
    assertTrue(p.refuses(10), "1990 + 10 = twice the cap");
    assertEquals(0, p.headroom(10));
  }

  @Test
  void entryIdsOrderAndSucceedNumerically() {
    assertTrue(EntryIds.compare("9-0", "10-0") < 0);
    assertTrue(EntryIds.compare("10-2", "10-10") < 0);
    assertEquals("10-3", EntryIds.successor("10-2"));
    assertEquals("9-0", EntryIds.min("10-0", "9-0"));
    assertEquals("9-0", EntryIds.min(null, "9-0"));
  }
}
