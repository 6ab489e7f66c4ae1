package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.Consumer;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 8, failure 1 ("a dead consumer's entries are never reclaimed by an idle survivor"): a
 * consumer {@code worker-gone} read 100 entries and died without acknowledging them; one
 * {@code sg worker} process then starts with {@code claim_min_idle} 3 s, {@code claim_interval} 1 s
 * and the default 2 s blocking read, and nothing else is ever sent. In production this is a pod
 * killed during a quiet period: its entries must be answered by the survivors, but on main the
 * survivor's blocking XREADGROUP reserves every free in-flight slot, the claimer finds a budget of
 * 0 on every tick, and the orphans stay pending (unanswered) forever. Asserts every orphan gets a
 * reply on the outbound stream and {@code worker-gone} ends with nothing pending; prints the time
 * from the worker's {@code /ready} to the 100th answer (the bound,
 * {@code claim_min_idle + claim_interval + 2 s} = 6 s, is reported, not asserted).
 */
@Timeout(120)
class IdleSurvivorReclaimTest {
  private static final int ORPHANS = 100;
  private static final String GONE = "worker-gone";
  private static final Duration CLAIM_MIN_IDLE = Duration.ofMillis(3000);
  private static final Duration CLAIM_INTERVAL = Duration.ofMillis(1000);

  @Test
  void anIdleSurvivorAnswersEveryEntryADeadConsumerLeftPending() throws Exception {
    long started = System.nanoTime();
    try (ProcessRig rig = new ProcessRig("idle-survivor", TestRedis.url(), CLAIM_MIN_IDLE)) {
      try {
        run(rig);
        System.out.printf("IdleSurvivorReclaimTest: took %d ms%n", SseReplies.since(started).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    RedisEventBus bus = rig.bus(Role.GATEWAY);
    String stream = rig.inboundStream();
    String group = rig.workerGroup();
    bus.ensureGroup(stream, group).block(Duration.ofSeconds(10)); // XGROUP CREATE … 0 MKSTREAM

    List<String> sent = new ArrayList<>();
    for (int i = 0; i < ORPHANS; i++) {
      InboundEnvelope in = InboundEnvelope.create("web", "idle" + (i % 10), "u" + i, "orphan " + i);
      bus.publishInbound(in).block(Duration.ofSeconds(10));
      sent.add(in.id());
    }
    // the consumer that dies: reads all 100, never acknowledges
    List<StreamMessage<String, byte[]>> read = readAsGone(bus, stream, group);
    assertEquals(ORPHANS, read.size(), "worker-gone read every entry");
    assertEquals(ORPHANS, gonePending(bus, rig), "worker-gone holds every entry");

    // one survivor, idle from the start: nothing else is ever published
    NodeProcess survivor = rig.startWorker("survivor", "echo", Map.of(
        "SG_CLAIM_MIN_IDLE_MS", Long.toString(CLAIM_MIN_IDLE.toMillis()),
        "SG_CLAIM_INTERVAL_MS", Long.toString(CLAIM_INTERVAL.toMillis()),
        "SG_READ_BLOCK_MS", "2000"));
    long ready = System.nanoTime();

    try {
      await("every orphan answered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
          .until(() -> answered(bus, rig, sent).size() == ORPHANS);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(String.format("%d/%d orphans still unanswered and %d/%d still pending on %s 60 s after the survivor"
              + " was ready (group pending %d); survivor metrics:%s", ORPHANS - answered(bus, rig, sent).size(), ORPHANS,
          gonePending(bus, rig), ORPHANS, GONE, Streams.pending(bus, stream, group), survivor.messageMetrics()), e);
    }
    long allAnswered = System.nanoTime();
    System.out.printf("IdleSurvivorReclaimTest: worker ready -> 100th answer: %d ms (issue bound claim_min_idle %d + claim_interval %d"
            + " + 2000 = %d ms, reported, not asserted)%n", (allAnswered - ready) / 1_000_000, CLAIM_MIN_IDLE.toMillis(),
        CLAIM_INTERVAL.toMillis(), CLAIM_MIN_IDLE.toMillis() + CLAIM_INTERVAL.toMillis() + 2000);

    try {
      await("worker-gone holds nothing").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> gonePending(bus, rig) == 0);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(gonePending(bus, rig) + "/" + ORPHANS + " still pending on " + GONE + " although every orphan was answered", e);
    }
    await("group pending 0").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> Streams.pending(bus, stream, group) == 0);
    Map<String, Integer> counts = ProcessRig.outboundCounts(bus, rig.outboundStream());
    assertEquals(Set.copyOf(sent), counts.keySet(), "a reply for every orphan and nothing else");
    System.out.printf("IdleSurvivorReclaimTest: %d orphans answered, %d of them more than once%n",
        counts.size(), counts.values().stream().filter(c -> c > 1).count());
    assertTrue(survivor.isAlive(), "the survivor is still running");
  }

  /** XREADGROUP GROUP group worker-gone COUNT 100 STREAMS stream > */
  @SuppressWarnings("unchecked") // varargs of a generic StreamOffset
  private static List<StreamMessage<String, byte[]>> readAsGone(RedisEventBus bus, String stream, String group) {
    return bus.connections().commands()
        .xreadgroup(Consumer.from(group, GONE), XReadArgs.Builder.count(ORPHANS), XReadArgs.StreamOffset.lastConsumed(stream))
        .collectList().block(Duration.ofSeconds(10));
  }

  private static long gonePending(RedisEventBus bus, ProcessRig rig) {
    return bus.pendingRange(rig.inboundStream(), rig.workerGroup(), GONE, "-", "+", 10_000)
        .count().block(Duration.ofSeconds(10));
  }

  private static Set<String> answered(RedisEventBus bus, ProcessRig rig, List<String> sent) {
    Set<String> replied = ProcessRig.outboundCounts(bus, rig.outboundStream()).keySet();
    return sent.stream().filter(replied::contains).collect(Collectors.toSet());
  }
}
