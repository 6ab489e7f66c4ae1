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
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] STAR = {'*'};
  private static final byte[] DATA = StreamFields.DATA.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TS = StreamFields.TS.getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TRACE_ID = StreamFields.TRACE_ID.getBytes(StandardCharsets.US_ASCII);

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

  @Override
  public void encode(ByteBuf buf) {
    super.encode(buf); // the stream
    for (byte[] w : trim) {
      bulk(buf, w);
    }
    bulk(buf, STAR);
    bulk(buf, DATA);
    bulk(buf, fields.data);
    bulk(buf, TS);
    bulk(buf, fields.ts);
    bulk(buf, TRACE_ID);
    bulk(buf, fields.traceId);
  }

  private static void bulk(ByteBuf buf, byte[] b) {
    buf.writeByte('$');
    writeInt(buf, b.length);
    buf.writeBytes(CRLF);
    buf.writeBytes(b);
    buf.writeBytes(CRLF);
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
