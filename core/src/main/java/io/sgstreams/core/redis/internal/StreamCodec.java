package io.sgstreams.core.redis.internal;

import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.ToByteBufEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The one codec of every connection: keys are UTF-8 strings, values raw bytes (envelopes stay
 * MessagePack end to end).
 *
 * <p>Hand-written instead of {@code RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE)}
 * because of what a profile of the closed-loop benchmark showed that composition cost per
 * message (docs/performance.md): it is not a {@link ToByteBufEncoder}, so Lettuce encoded every
 * key and value of every command into a freshly allocated {@link ByteBuffer} and wrapped that
 * again before copying it into the outgoing buffer (about a tenth of all bytes allocated), and
 * it decoded every field name of every stream entry read ({@code data}, {@code ts},
 * {@code trace_id}) into a new string. Here keys and values are written straight into the
 * outgoing buffer with their exact length, and the wire contract's field names decode to
 * constants.
 */
public final class StreamCodec implements RedisCodec<String, byte[]>, ToByteBufEncoder<String, byte[]> {
  public static final StreamCodec INSTANCE = new StreamCodec();
  private static final byte[] EMPTY = new byte[0];
  /** Field names of stream entries (wire contract), decoded without allocating. */
  private static final String[] KNOWN = {"data", "ts", "trace_id", "replay_of"};
  private static final byte[][] KNOWN_BYTES = new byte[KNOWN.length][];

  static {
    for (int i = 0; i < KNOWN.length; i++) {
      KNOWN_BYTES[i] = KNOWN[i].getBytes(StandardCharsets.US_ASCII);
    }
  }

  private StreamCodec() {}

  @Override
  public String decodeKey(ByteBuffer bytes) {
    if (bytes == null) {
      return null;
    }
    int len = bytes.remaining();
    int pos = bytes.position();
    for (int k = 0; k < KNOWN_BYTES.length; k++) {
      byte[] known = KNOWN_BYTES[k];
      if (known.length == len && equal(bytes, pos, known)) {
        return KNOWN[k];
      }
    }
    return utf8(bytes);
  }

  @Override
  public byte[] decodeValue(ByteBuffer bytes) {
    if (bytes == null || !bytes.hasRemaining()) {
      return EMPTY; // as ByteArrayCodec: nil and empty are both empty
    }
    byte[] b = new byte[bytes.remaining()];
    bytes.get(b);
    return b;
  }

  /** Through Netty's encoder, like {@link #encodeKey(String, ByteBuf)}: the slot Lettuce hashes is the key Redis gets. */
  @Override
  public ByteBuffer encodeKey(String key) {
    return ByteBuffer.wrap(key == null ? EMPTY : utf8(key));
  }

  /**
   * {@code s} as the bytes this codec sends for it as a key (Netty's UTF-8 encoder: an unpaired
   * surrogate becomes {@code ?}, where {@link String#getBytes} would differ), for arguments that
   * must name the same thing as a key argument elsewhere (a group, a consumer).
   */
  public static byte[] utf8(String s) {
    // Netty's writer reserves the worst case (3 bytes per char) before writing
    byte[] b = new byte[ByteBufUtil.utf8MaxBytes(s)];
    ByteBuf buf = io.netty.buffer.Unpooled.wrappedBuffer(b);
    buf.writerIndex(0);
    ByteBufUtil.writeUtf8(buf, s);
    return buf.writerIndex() == b.length ? b : java.util.Arrays.copyOf(b, buf.writerIndex());
  }

  @Override
  public ByteBuffer encodeValue(byte[] value) {
    return ByteBuffer.wrap(value == null ? EMPTY : value);
  }

  @Override
  public void encodeKey(String key, ByteBuf target) {
    if (key != null) {
      ByteBufUtil.writeUtf8(target, key);
    }
  }

  @Override
  public void encodeValue(byte[] value, ByteBuf target) {
    if (value != null) {
      target.writeBytes(value);
    }
  }

  /** Exact: Lettuce then writes the length prefix and the bytes straight into the outgoing buffer. */
  @Override
  public int estimateSize(Object keyOrValue) {
    if (keyOrValue instanceof byte[] b) {
      return b.length;
    }
    if (keyOrValue instanceof String s) {
      return ByteBufUtil.utf8Bytes(s);
    }
    return 0;
  }

  @Override
  public boolean isEstimateExact() {
    return true;
  }

  private static boolean equal(ByteBuffer bytes, int pos, byte[] known) {
    for (int i = 0; i < known.length; i++) {
      if (bytes.get(pos + i) != known[i]) {
        return false;
      }
    }
    return true;
  }

  private static String utf8(ByteBuffer bytes) {
    if (bytes.hasArray()) {
      String s = new String(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining(), StandardCharsets.UTF_8);
      bytes.position(bytes.limit());
      return s;
    }
    byte[] b = new byte[bytes.remaining()];
    bytes.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
