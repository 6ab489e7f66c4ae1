package io.sgstreams.core.redis.internal;

import io.lettuce.core.output.CommandOutput;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The reply of an XADD: the new entry's id (or nil), read as ASCII. Lettuce's {@code StatusOutput}
 * decoded it through a {@code CharsetDecoder} (a char buffer and its array per publish, a tenth of
 * what a publish allocated besides the envelope).
 */
public final class StreamIdOutput extends CommandOutput<String, byte[], String> {
  public StreamIdOutput() {
    super(RedisStreams.CODEC, null);
  }

  @Override
  public void set(ByteBuffer bytes) {
    if (bytes == null) {
      output = null;
      return;
    }
    int n = bytes.remaining();
    byte[] b = new byte[n];
    bytes.get(b);
    output = new String(b, StandardCharsets.ISO_8859_1); // digits and '-'
  }
}
