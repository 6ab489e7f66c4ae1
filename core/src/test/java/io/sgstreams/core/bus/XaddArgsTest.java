package io.sgstreams.core.bus;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
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
    StreamFields.Envelope fields = (StreamFields.Envelope) StreamFields.envelope(data, 1_720_000_000_123L, "0af7651916cd43dd8448eb211c80319c");
    XaddArgs args = new XaddArgs("sg:s", XaddArgs.encode(List.of("MAXLEN", "~", "100000")), fields);
    ByteBuf buf = Unpooled.buffer(16);
    args.encode(buf);
    byte[] got = new byte[buf.readableBytes()];
    buf.readBytes(got);

    ByteBuf want = Unpooled.buffer();
    for (Object w : List.of("sg:s", "MAXLEN", "~", "100000", "*", "data", data, "ts", "1720000000123",
        "trace_id", "0af7651916cd43dd8448eb211c80319c")) {
      byte[] b = w instanceof byte[] bytes ? bytes : ((String) w).getBytes(StandardCharsets.UTF_8);
      want.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII)).writeBytes(b).writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    byte[] expected = new byte[want.readableBytes()];
    want.readBytes(expected);
    assertEquals(new String(expected, StandardCharsets.ISO_8859_1), new String(got, StandardCharsets.ISO_8859_1));
    assertEquals(1 + 3 + 1 + 6, args.count());
  }
}
