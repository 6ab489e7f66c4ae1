package io.sgstreams.core.redis.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The codec sends a key with exactly the length it announces, and the bytes Lettuce hashes for a
 * cluster slot ({@code encodeKey(String)}) and the bytes a group or consumer name is sent as
 * ({@link StreamCodec#utf8}) are the bytes written on the wire, even for malformed UTF-16.
 */
class StreamCodecTest {
  private static final StreamCodec C = StreamCodec.INSTANCE;

  @ParameterizedTest
  @ValueSource(strings = {"", "sg:stream:inbound", "{p3}.k:outbound:web", "caf\u00e9", "\u4e2d\u6587", "emoji \ud83d\ude00",
      "lone \ud800 high", "ab\ud800\u00e9c", "tail \udc00", "\ud800"})
  void keyBytesAreTheWireBytes(String key) {
    ByteBuf wire = Unpooled.buffer();
    C.encodeKey(key, wire);
    byte[] sent = new byte[wire.readableBytes()];
    wire.readBytes(sent);
    assertEquals(sent.length, C.estimateSize(key), "announced length");
    ByteBuffer hashed = C.encodeKey(key);
    byte[] h = new byte[hashed.remaining()];
    hashed.get(h);
    assertArrayEquals(sent, h, "slot-hashed bytes");
    assertArrayEquals(sent, StreamCodec.utf8(key), "name bytes");
  }

  @ParameterizedTest
  @ValueSource(strings = {"data", "ts", "trace_id", "replay_of"})
  void contractFieldNamesDecodeToConstants(String name) {
    String decoded = C.decodeKey(ByteBuffer.wrap(name.getBytes(StandardCharsets.US_ASCII)));
    assertEquals(name, decoded);
    assertSame(name.intern(), decoded);
  }

  @ParameterizedTest
  @ValueSource(strings = {"dat", "datax", "other", "caf\u00e9"})
  void otherNamesDecodeAsUtf8(String name) {
    assertEquals(name, C.decodeKey(ByteBuffer.wrap(name.getBytes(StandardCharsets.UTF_8))));
  }
}
