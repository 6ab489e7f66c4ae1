package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class XaddArgsTest {

  private static String written(int n) {
    ByteBuf buf = Unpooled.buffer(1); // grows: the digits' room is ensured before they are set
    buf.writeByte('$');
    XaddArgs.writeInt(buf, n);
    buf.writeByte('|');
    return buf.toString(StandardCharsets.US_ASCII);
  }

  @Test
  void lengthsAreWrittenInDecimalLikeIntegerToString() {
    for (int n = 0; n <= 100_000; n++) {
      assertEquals("$" + n + "|", written(n));
    }
    int p = 1;
    for (int d = 1; d <= 9; d++) {
      p *= 10;
      for (int n : new int[] {p - 1, p, p + 1}) {
        assertEquals("$" + n + "|", written(n));
      }
    }
    assertEquals("$" + Integer.MAX_VALUE + "|", written(Integer.MAX_VALUE));
    Random r = new Random(7);
    for (int i = 0; i < 100_000; i++) {
      int n = r.nextInt(Integer.MAX_VALUE);
      assertEquals("$" + n + "|", written(n));
    }
  }

  @Test
  void anEnvelopesXaddIsTheRespOfItsWords() {
    byte[] data = new byte[300];
    new Random(1).nextBytes(data);
    check(List.of("MAXLEN", "~", "100000"), data, 1_720_000_000_123L, "0af7651916cd43dd8448eb211c80319c", Unpooled.buffer(16));
  }

  /**
   * Every shape the encoder writes differently (no trim words, MINID, an empty or one-byte value, a
   * value long enough for a 5-digit length) into each kind of buffer Netty hands out: heap, Netty
   * 4.2's default adaptive direct buffers (which the real connection uses) and 4.1's pooled ones,
   * each starting too small so that every write has to grow it.
   */
  @Test
  void everyShapeIntoEveryKindOfBuffer() {
    Random r = new Random(2);
    List<List<String>> trims = List.of(List.of(), List.of("MINID", "~", "1720000000000-0"), List.of("MAXLEN", "~", "7"));
    List<byte[]> datas = List.of(new byte[0], new byte[] {'\r'}, bytes(r, 586), bytes(r, 10_000), bytes(r, 65_537));
    List<ByteBufAllocator> allocators = List.of(new UnpooledByteBufAllocator(false), new AdaptiveByteBufAllocator(),
        new PooledByteBufAllocator(true));
    int cases = 0;
    for (List<String> trim : trims) {
      for (byte[] data : datas) {
        for (String trace : List.of("", "0af7651916cd43dd8448eb211c80319c")) {
          for (ByteBufAllocator a : allocators) {
            ByteBuf buf = a.directBuffer(1);
            try {
              check(trim, data, 1_720_000_000_123L + cases, trace, buf);
            } finally {
              buf.release();
            }
            cases++;
          }
        }
      }
    }
    assertEquals(3 * 5 * 2 * 3, cases);
  }

  private static byte[] bytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  /** Encodes into {@code buf} and compares with the RESP bulk strings of the words written one by one. */
  private static void check(List<String> trim, byte[] data, long ts, String trace, ByteBuf buf) {
    StreamFields.Envelope fields = (StreamFields.Envelope) StreamFields.envelope(data, ts, trace);
    XaddArgs args = new XaddArgs("sg:s", XaddArgs.encode(trim), fields);
    args.encode(buf);
    byte[] got = new byte[buf.readableBytes()];
    buf.readBytes(got);

    List<Object> words = new ArrayList<>();
    words.add("sg:s");
    words.addAll(trim);
    words.addAll(List.of("*", "data", data, "ts", Long.toString(ts), "trace_id", trace));
    ByteBuf want = Unpooled.buffer();
    for (Object w : words) {
      byte[] b = w instanceof byte[] bytes ? bytes : ((String) w).getBytes(StandardCharsets.UTF_8);
      want.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII)).writeBytes(b).writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    byte[] expected = new byte[want.readableBytes()];
    want.readBytes(expected);
    assertEquals(new String(expected, StandardCharsets.ISO_8859_1), new String(got, StandardCharsets.ISO_8859_1),
        () -> "trim " + trim + ", " + data.length + " data bytes, trace '" + trace + "', " + buf.getClass().getSimpleName());
    assertEquals(1 + trim.size() + 1 + 6, args.count());
  }
}
