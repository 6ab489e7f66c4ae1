package io.sgstreams.core.bus;

import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The arguments of {@code XADD stream [trim words] * data … ts … trace_id …} for a published
 * envelope, written straight into the outgoing buffer (other field sets, such as dead letters, go
 * through Lettuce's {@code xadd}). Hand-written because Lettuce's {@code xadd(key, XAddArgs, Map)} built, per
 * publish, a list grown twice, an argument object per word and per field, and the trim words as
 * strings again (a tenth of what the closed-loop benchmark allocated per round trip, with the
 * fields' map, in a profile: docs/performance.md). The stream is Lettuce's key argument, so a
 * cluster connection routes the command by it as before.
 */
final class XaddArgs extends CommandArgs<String, byte[]> {
  /** CR LF as one big-endian short: one bounds check and one store, where a 2-byte array went through the buffer's copy path. */
  private static final int CRLF = ('\r' << 8) | '\n';
  /** The constant words between the values, each run of them written as one array: {@code * data} and the next length's {@code $}. */
  private static final byte[] STAR_DATA = resp("$1\r\n*\r\n$" + StreamFields.DATA.length() + "\r\n" + StreamFields.DATA + "\r\n$");
  /** The end of the data value, {@code ts} and the next length's {@code $}. */
  private static final byte[] DATA_END_TS = resp("\r\n$" + StreamFields.TS.length() + "\r\n" + StreamFields.TS + "\r\n$");
  /** The end of the ts value, {@code trace_id} and the next length's {@code $}. */
  private static final byte[] TS_END_TRACE_ID = resp("\r\n$" + StreamFields.TRACE_ID.length() + "\r\n" + StreamFields.TRACE_ID
      + "\r\n$");

  private final byte[][] trim;
  private final StreamFields.Envelope fields;

  XaddArgs(String stream, byte[][] trim, StreamFields.Envelope fields) {
    super(RedisStreams.CODEC);
    addKey(stream);
    this.trim = trim;
    this.fields = fields;
  }

  /** Trim words ({@code MAXLEN ~ n}, {@code MINID ~ id} or none) encoded once per trimming plan. */
  static byte[][] encode(List<String> words) {
    byte[][] b = new byte[words.size()][];
    for (int i = 0; i < b.length; i++) {
      b[i] = words.get(i).getBytes(StandardCharsets.UTF_8);
    }
    return b;
  }

  @Override
  public int count() {
    return 1 + trim.length + 1 + 6;
  }

  /**
   * Six writes of constant runs and values instead of one per RESP token: every small array written
   * into Netty 4.2's adaptive buffers takes the buffer's general copy path, and the 2-byte CR LFs
   * and short words were most of the 27 such writes per envelope (the copy path was 4 % of the
   * closed loop's samples, three quarters of it from here: docs/performance.md).
   */
  @Override
  public void encode(ByteBuf buf) {
    super.encode(buf); // the stream
    for (byte[] w : trim) {
      buf.writeByte('$');
      value(buf, w);
      buf.writeShort(CRLF);
    }
    buf.writeBytes(STAR_DATA);
    value(buf, fields.data);
    buf.writeBytes(DATA_END_TS);
    value(buf, fields.ts);
    buf.writeBytes(TS_END_TRACE_ID);
    value(buf, fields.traceId);
    buf.writeShort(CRLF);
  }

  /** A bulk string's length (its {@code $} already written), CR LF and its bytes. */
  private static void value(ByteBuf buf, byte[] b) {
    writeInt(buf, b.length);
    buf.writeShort(CRLF);
    buf.writeBytes(b);
  }

  private static byte[] resp(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * A non-negative int in decimal ASCII, without a string: digits from the right by division by the
   * constant 10 (a multiply once compiled; the earlier loop divided by a variable power of ten, a
   * hardware division per digit and 2.8 % of the closed loop's samples).
   */
  static void writeInt(ByteBuf buf, int n) {
    if (n < 10) {
      buf.writeByte('0' + n);
      return;
    }
    int digits = n < 100 ? 2 : n < 1_000 ? 3 : n < 10_000 ? 4 : n < 100_000 ? 5 : n < 1_000_000 ? 6
        : n < 10_000_000 ? 7 : n < 100_000_000 ? 8 : n < 1_000_000_000 ? 9 : 10;
    buf.ensureWritable(digits);
    int at = buf.writerIndex() + digits;
    for (int i = 1; i <= digits; i++) {
      int q = n / 10;
      buf.setByte(at - i, '0' + (n - q * 10));
      n = q;
    }
    buf.writerIndex(at);
  }

  @Override
  public String toCommandString() {
    return super.toCommandString() + " [" + trim.length + " trim words] * data ts trace_id";
  }
}
