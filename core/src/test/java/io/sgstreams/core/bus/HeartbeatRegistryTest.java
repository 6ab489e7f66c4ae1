package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.SetArgs;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Two processes never consume under one name; a killed process's name is free again after one TTL. */
class HeartbeatRegistryTest {
  private final SgConfig config = TestRedis.config("hb").withConsumer(TestRedis.config("hb").consumer().withHeartbeatTtl(Duration.ofMillis(1500)));
  private final RedisEventBus a = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
  private final RedisEventBus b = TestRedis.bus(TestRedis.url(), Role.WORKER, config);

  @AfterEach
  void close() {
    a.close();
    b.close();
  }

  @Test
  void aNameHeldByALiveProcessIsRefusedAfterOneTtl() {
    HeartbeatRegistry.Heartbeat held = a.heartbeats().register("worker-dup").block();
    long started = System.nanoTime();
    ConsumerNameInUseException e = assertThrows(ConsumerNameInUseException.class,
        () -> b.heartbeats().register("worker-dup").block(Duration.ofSeconds(10)));
    long waited = (System.nanoTime() - started) / 1_000_000;
    assertTrue(e.getMessage().contains("worker-dup"), e.getMessage());
    assertEquals(a.heartbeats().instance(), e.holder());
    assertTrue(waited >= 1500, "it waited a TTL for a stale holder first: " + waited + " ms");
    // released by its holder: free at once
    held.release().block();
    b.heartbeats().register("worker-dup").block(Duration.ofSeconds(10)).release().block();
  }

  @Test
  void aNameLeftByAKilledProcessIsTakenOnceItExpires() {
    // what a SIGKILLed process leaves: a key nobody renews
    String key = config.topology().heartbeatKey("worker-killed");
    a.connections().commands().set(key, "1234@gone/abcd".getBytes(StandardCharsets.UTF_8), SetArgs.Builder.px(1500)).block();
    HeartbeatRegistry.Heartbeat h = b.heartbeats().register("worker-killed").block(Duration.ofSeconds(20));
    assertEquals(b.heartbeats().instance(), new String(b.connections().commands().get(key).block(), StandardCharsets.UTF_8));
    h.release().block();
    assertEquals(0L, b.connections().commands().exists(key).block());
  }

  @Test
  void aHolderThatFindsItsNameTakenIsTold() throws InterruptedException {
    HeartbeatRegistry.Heartbeat h = a.heartbeats().register("worker-stall").block();
    // another process took it while this one stalled past the TTL
    b.connections().commands().set(config.topology().heartbeatKey("worker-stall"), "other".getBytes(StandardCharsets.UTF_8)).block();
    h.whenLost().block(Duration.ofSeconds(20));
  }

  @Test
  void renewalKeepsTheKeyAliveLongPastItsTtl() throws InterruptedException {
    HeartbeatRegistry.Heartbeat h = a.heartbeats().register("worker-long").block();
    Thread.sleep(4000); // over two TTLs
    assertEquals(1L, a.connections().commands().exists(config.topology().heartbeatKey("worker-long")).block());
    h.release().block();
  }
}
