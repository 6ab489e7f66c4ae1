package io.sgstreams.core.consume.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * The ticketed read script: which entries get a ticket, in which queue (the same key the Java side
 * computes), and in stream order, whatever else the envelope holds.
 */
class TicketedTurnsTest {
  static final Duration WITHIN = Duration.ofSeconds(10);
  final SgConfig config = TestRedis.config("tt1");
  final RedisEventBus bus = TestRedis.bus(TestRedis.url(), Role.WORKER, config);
  final String stream = config.topology().inboundStream();
  final String group = "tt-group";

  @AfterEach
  void close() {
    bus.close();
  }

  @Test
  void ticketsFollowStreamOrderPerConversationWhateverElseTheEnvelopeHolds() throws IOException {
    bus.ensureGroup(stream, group).block(WITHIN);
    String a1 = add(envelope("acme", "web", "c-1", false));
    String b1 = add(envelope(null, "web", "c-1", true)); // no tenant: another conversation; an ext timestamp, a nested nil key
    String a2 = add(envelope("acme", "web", "c-1", true));
    String none = add(envelope("acme", "web", null, false)); // no channel: no ticket
    String bad = add("not msgpack at all".getBytes(StandardCharsets.UTF_8));
    String a3 = add(envelope("acme", "web", "c-1", false));

    List<Object> reply = TicketedTurns.READ.<List<Object>>run(bus.connections(), new String[] {stream},
        TicketedTurns.readArgs(group, "tt-consumer", 100, stream)).block(WITHIN);
    assertEquals(1, reply.size(), "one stream's entries");
    assertEquals(List.of(a1, a2, a3), queued(TicketedTurns.queueKey(stream, "acme", "web", "c-1")));
    assertEquals(List.of(b1), queued(TicketedTurns.queueKey(stream, null, "web", "c-1")));
    assertEquals(List.of(), queued(TicketedTurns.queueKey(stream, "acme", "web", "")));
    // nothing new: the stream's last id, for the wake-up read
    List<Object> empty = TicketedTurns.READ.<List<Object>>run(bus.connections(), new String[] {stream},
        TicketedTurns.readArgs(group, "tt-consumer", 100, stream)).block(WITHIN);
    assertEquals(List.of(a3), empty.stream().map(RedisScript::text).toList());
    assertEquals(6, List.of(a1, b1, a2, none, bad, a3).stream().distinct().count());
  }

  private List<String> queued(String key) {
    return new TicketedTurns(bus.connections(), d -> {}).queued(key).block(WITHIN);
  }

  private String add(byte[] data) {
    return bus.publishFields(stream, Map.of("data", data, "ts", "0".getBytes(StandardCharsets.UTF_8))).block(WITHIN);
  }

  /** An envelope-shaped map; {@code extras}: values cmsgpack cannot decode, in keys the Java reader skips. */
  static byte[] envelope(String tenant, String platform, String channel, boolean extras) throws IOException {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    int n = 3 + (tenant != null ? 1 : 0) + (channel != null ? 1 : 0) + (extras ? 3 : 0);
    p.packMapHeader(n);
    p.packString("v").packInt(1);
    if (extras) {
      p.packString("x_when").packExtensionTypeHeader((byte) -1, 8).addPayload(new byte[8]);
      p.packString("x_nested").packMapHeader(2).packNil().packInt(1).packString("k").packArrayHeader(2).packDouble(1.5).packBinaryHeader(3);
      p.addPayload(new byte[] {1, 2, 3});
      p.packString("x_big").packLong(Long.MAX_VALUE);
    }
    if (tenant != null) {
      p.packString("tenant_id").packString(tenant);
    }
    p.packString("platform").packString(platform);
    if (channel != null) {
      p.packString("channel_id").packString(channel);
    }
    p.packString("content").packString("hello");
    return p.toByteArray();
  }
}
