package io.sgstreams.journal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.r2dbc.postgresql.client.EncodedParameter;
import io.r2dbc.postgresql.codec.Codec;
import io.r2dbc.postgresql.extension.CodecRegistrar;
import io.r2dbc.postgresql.message.Format;
import reactor.core.publisher.Mono;

/**
 * One-dimensional {@code text[]}, {@code int8[]} and {@code bytea[]} parameters sent in
 * PostgreSQL's binary array format ({@code array_send}: dimensions, then each element as a length
 * and its bytes). Hand-written because r2dbc-postgresql 1.1 sends every array as text: each element
 * quoted and escaped through a {@code StringBuilder} of its own, numbers through strings, and no
 * {@code bytea[]} at all, so the journal's envelope bytes travelled base64-encoded. In a profile of
 * the gateway with the journal on under {@code wrk}, that text encoding was about a quarter of the
 * process's CPU samples and of what it allocated (docs/performance.md). Binary: each string's UTF-8
 * bytes and each envelope's bytes are written once, straight into the outgoing buffer.
 *
 * <p>Only for parameters (the journal's batch insert); never decodes.
 */
final class BinaryArrays {
  static final int TEXT = 25;
  static final int TEXT_ARRAY = 1009;
  static final int INT8 = 20;
  static final int INT8_ARRAY = 1016;
  static final int BYTEA = 17;
  static final int BYTEA_ARRAY = 1001;

  private BinaryArrays() {}

  /** A one-dimensional array parameter; elements may be null. */
  static final class Param {
    final int arrayOid;
    final int elementOid;
    final Object[] values;

    private Param(int arrayOid, int elementOid, Object[] values) {
      this.arrayOid = arrayOid;
      this.elementOid = elementOid;
      this.values = values;
    }

    @Override
    public String toString() {
      return "BinaryArrays.Param[oid " + arrayOid + ", " + values.length + " elements]";
    }
  }

  static Param text(String[] values) {
    return new Param(TEXT_ARRAY, TEXT, values);
  }

  static Param int8(Long[] values) {
    return new Param(INT8_ARRAY, INT8, values);
  }

  static Param bytea(byte[][] values) {
    return new Param(BYTEA_ARRAY, BYTEA, values);
  }

  /** The array in binary format: a buffer of exactly its size, from {@code alloc}. */
  static ByteBuf encode(Param p, ByteBufAllocator alloc) {
    Object[] v = p.values;
    int[] lengths = new int[v.length];
    boolean nulls = false;
    int size = 20; // ndim, has-nulls flag, element type, then the one dimension's length and lower bound
    for (int i = 0; i < v.length; i++) {
      Object x = v[i];
      int n;
      if (x == null) {
        n = -1;
        nulls = true;
      } else if (p.elementOid == TEXT) {
        n = ByteBufUtil.utf8Bytes((String) x);
      } else if (p.elementOid == INT8) {
        n = 8;
      } else {
        n = ((byte[]) x).length;
      }
      lengths[i] = n;
      size += 4 + Math.max(n, 0);
    }
    ByteBuf buf = alloc.buffer(size, size);
    try {
      buf.writeInt(1);
      buf.writeInt(nulls ? 1 : 0);
      buf.writeInt(p.elementOid);
      buf.writeInt(v.length);
      buf.writeInt(1);
      for (int i = 0; i < v.length; i++) {
        int n = lengths[i];
        buf.writeInt(n);
        if (n < 0) {
          continue;
        }
        if (p.elementOid == TEXT) {
          int wrote = ByteBufUtil.reserveAndWriteUtf8(buf, (String) v[i], n); // writeUtf8 would reserve 3 bytes a char
          if (wrote != n) {
            throw new IllegalStateException("UTF-8 length counted as " + n + " but " + wrote + " bytes written");
          }
        } else if (p.elementOid == INT8) {
          buf.writeLong((Long) v[i]);
        } else {
          buf.writeBytes((byte[]) v[i]);
        }
      }
      return buf;
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  /** Registers the codec on every connection of the factory it is an extension of. */
  static CodecRegistrar registrar() {
    return (connection, alloc, registry) -> {
      registry.addFirst(new ParamCodec(alloc));
      return Mono.empty();
    };
  }

  private static final class ParamCodec implements Codec<Param> {
    private final ByteBufAllocator alloc;

    ParamCodec(ByteBufAllocator alloc) {
      this.alloc = alloc;
    }

    @Override
    public boolean canDecode(int dataType, Format format, Class<?> type) {
      return false;
    }

    @Override
    public boolean canEncode(Object value) {
      return value instanceof Param;
    }

    @Override
    public boolean canEncodeNull(Class<?> type) {
      return false;
    }

    @Override
    public Param decode(ByteBuf buffer, int dataType, Format format, Class<? extends Param> type) {
      throw new UnsupportedOperationException("BinaryArrays.Param is a parameter type only");
    }

    @Override
    public EncodedParameter encode(Object value) {
      Param p = (Param) value;
      // built when the driver writes the Bind message, so a statement that is never run holds no buffer
      return new EncodedParameter(Format.FORMAT_BINARY, p.arrayOid, Mono.fromSupplier(() -> BinaryArrays.encode(p, alloc)));
    }

    @Override
    public EncodedParameter encode(Object value, int dataType) {
      return encode(value);
    }

    @Override
    public EncodedParameter encodeNull() {
      throw new UnsupportedOperationException("BinaryArrays.Param is never null");
    }
  }
}
