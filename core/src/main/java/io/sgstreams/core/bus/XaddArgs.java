package io.sgstreams.core.bus;

import io.lettuce.core.protocol.CommandArgs;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * The arguments of {@code XADD stream [trim words] * field value …}, written straight into the
 * outgoing buffer. Hand-written because Lettuce's {@code xadd(key, XAddArgs, Map)} built, per
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
  private final Map<String, byte[]> fields;

  XaddArgs(String stream, byte[][] trim, Map<String, byte[]> fields) {
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
    return 1 + trim.length + 1 + 2 * fields.size();
  }

  @Override
  public void encode(ByteBuf buf) {
    super.encode(buf); // the stream
    for (byte[] w : trim) {
      bulk(buf, w);
    }
    bulk(buf, STAR);
    if (fields instanceof StreamFields.Envelope e) {
      bulk(buf, DATA);
      bulk(buf, e.data);
      bulk(buf, TS);
      bulk(buf, e.ts);
      bulk(buf, TRACE_ID);
      bulk(buf, e.traceId);
      return;
    }
    for (Map.Entry<String, byte[]> f : fields.entrySet()) {
      String k = f.getKey();
      buf.writeByte('$');
      writeInt(buf, ByteBufUtil.utf8Bytes(k));
      buf.writeBytes(CRLF);
      ByteBufUtil.writeUtf8(buf, k);
      buf.writeBytes(CRLF);
      bulk(buf, f.getValue() == null ? new byte[0] : f.getValue());
    }
  }

  private static void bulk(ByteBuf buf, byte[] b) {
    buf.writeByte('$');
    writeInt(buf, b.length);
    buf.writeBytes(CRLF);
    buf.writeBytes(b);
    buf.writeBytes(CRLF);
  }

  /** A non-negative int in decimal ASCII, without a string. */
  private static void writeInt(ByteBuf buf, int n) {
    if (n < 10) {
      buf.writeByte('0' + n);
      return;
    }
    int div = 1;
    while (n / div >= 10) {
      div *= 10;
    }
    for (; div > 0; div /= 10) {
      buf.writeByte('0' + (n / div) % 10);
    }
  }

  @Override
  public String toCommandString() {
    return super.toCommandString() + " [" + trim.length + " trim words] * " + fields.keySet();
  }
}
