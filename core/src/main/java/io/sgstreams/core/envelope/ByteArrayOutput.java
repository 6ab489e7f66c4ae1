package io.sgstreams.core.envelope;

import java.util.Arrays;
import org.msgpack.core.buffer.MessageBuffer;
import org.msgpack.core.buffer.MessageBufferOutput;

/**
 * A {@link MessageBufferOutput} over one growing byte array: the packer writes straight into it, and
 * {@link #toByteArray()} returns it without a copy when the initial size estimate was exact.
 */
final class ByteArrayOutput implements MessageBufferOutput {
    private static final int MIN_ROOM = 64;

    private byte[] buf;
    private int size;

    ByteArrayOutput(int initialCapacity) {
        buf = new byte[Math.max(initialCapacity, MIN_ROOM)];
    }

    int size() {
        return size;
    }

    private void ensureRoom(int n) {
        if (buf.length - size < n) {
            long want = Math.max((long) buf.length * 2, (long) size + n);
            if (want > Integer.MAX_VALUE - 8) {
                want = Math.max((long) size + n, Integer.MAX_VALUE - 8);
            }
            buf = Arrays.copyOf(buf, (int) want);
        }
    }

    @Override
    public MessageBuffer next(int minimumSize) {
        ensureRoom(Math.max(minimumSize, MIN_ROOM));
        return MessageBuffer.wrap(buf, size, buf.length - size);
    }

    @Override
    public void writeBuffer(int length) {
        size += length;
    }

    @Override
    public void write(byte[] src, int off, int len) {
        ensureRoom(len);
        System.arraycopy(src, off, buf, size, len);
        size += len;
    }

    @Override
    public void add(byte[] src, int off, int len) {
        write(src, off, len);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }

    /** Empties it for the next envelope, keeping the array. */
    void reset() {
        size = 0;
    }

    int capacity() {
        return buf.length;
    }

    /** A copy of what was written, exactly {@link #size()} bytes. */
    byte[] copy() {
        return Arrays.copyOf(buf, size);
    }

    byte[] toByteArray() {
        return size == buf.length ? buf : Arrays.copyOf(buf, size);
    }
}
