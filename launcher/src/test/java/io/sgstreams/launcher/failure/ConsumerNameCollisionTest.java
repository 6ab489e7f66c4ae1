package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 8, "consumer-name collisions are refused": two live {@code sg worker} processes started
 * with the same {@code SG_NODE_ID} would both be consumer {@code worker-dup} of the worker group and
 * share one pending list (each acknowledging, claiming and re-reading the other's entries). In
 * production this is two pods with the same stable id (a copied manifest, two containers on one
 * host). On main the second process starts and serves as if nothing were wrong. Asserts that, with
 * {@code SG_HEARTBEAT_TTL_MS=3000}, a second process B exits with a non-zero status and says that
 * {@code worker-dup} is in use while A lives; and that a process C started right after A is
 * SIGKILLed (a pod restarting fast) waits out the stale heartbeat, becomes ready and answers.
 */
@Timeout(150)
class ConsumerNameCollisionTest {
  private static final String CONSUMER = "worker-dup";
  private static final Map<String, String> HEARTBEAT = Map.of("SG_HEARTBEAT_TTL_MS", "3000");
  /** A line naming the consumer id as taken (the exact wording is the implementation's). */
  private static final Pattern IN_USE = Pattern.compile("in use|already|held|taken|another|alive", Pattern.CASE_INSENSITIVE);

  @Test
  void aSecondLiveProcessWithTheSameConsumerNameIsRefusedAndAFastRestartIsNot() throws Exception {
    long started = System.nanoTime();
    try (ProcessRig rig = new ProcessRig("name-collision", TestRedis.url(), Duration.ofMillis(3000))) {
      try {
        run(rig);
        System.out.printf("ConsumerNameCollisionTest: took %d ms%n", SseReplies.since(started).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    NodeProcess a = rig.startWorker("dup", "echo", HEARTBEAT);
    NodeProcess b = rig.spawnWorker("dup", "echo", HEARTBEAT);

    // B either refuses to start (exits) or, wrongly, becomes a second live worker-dup
    try {
      await("B exits or becomes ready").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> !b.isAlive() || b.ready());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("B neither exited nor became ready within 60 s", e);
    }
    if (b.isAlive()) {
      throw new AssertionError("B started as a second live " + CONSUMER + " while A holds that name (B's /ready answered 200;"
          + " A alive: " + a.isAlive() + ")");
    }
    int status = b.process().exitValue();
    System.out.printf("ConsumerNameCollisionTest: B exited with status %d%n", status);
    assertNotEquals(0, status, "B's exit status");
    String bLog = b.logText();
    assertTrue(bLog.lines().anyMatch(l -> l.contains(CONSUMER) && IN_USE.matcher(l).find()), "B's output names " + CONSUMER + " as in use:\n" + bLog);
    assertTrue(a.isAlive() && a.ready(), "A is still running and ready");

    // a fast restart: A dies without a word, C starts at once with the same id and waits out A's heartbeat
    a.kill();
    long killedAt = System.nanoTime();
    NodeProcess c = rig.spawnWorker("dup", "echo", HEARTBEAT);
    ProcessRig.awaitReady(List.of(c));
    System.out.printf("ConsumerNameCollisionTest: C ready %d ms after A was killed (heartbeat TTL 3000 ms)%n",
        SseReplies.since(killedAt).toMillis());

    RedisEventBus bus = rig.bus(Role.GATEWAY);
    InboundEnvelope in = InboundEnvelope.create("web", "dup-channel", "u", "hello C");
    bus.publishInbound(in).block(Duration.ofSeconds(10));
    try {
      await("C answers").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> ProcessRig.outboundCounts(bus, rig.outboundStream()).containsKey(in.id()));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("C (" + CONSUMER + ", restarted) did not answer within 30 s; its metrics:" + c.messageMetrics(), e);
    }
    assertTrue(c.isAlive(), "C is still running");
  }
}
