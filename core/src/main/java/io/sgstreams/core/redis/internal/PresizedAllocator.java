package io.sgstreams.core.redis.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

/**
 * A Redis connection's allocator whose buffers of unstated size start at {@link #initialCapacity}
 * instead of Netty's 256 bytes; everything else goes to the channel's own allocator.
 *
 * <p>Lettuce encodes each command into {@code alloc().ioBuffer()}: an XADD of a ~600-byte
 * envelope outgrew that buffer twice (256 → 512 → 1024 bytes, a new buffer and a copy each
 * time), which was 4 % of the closed-loop benchmark's CPU profile (docs/performance.md).
 */
final class PresizedAllocator implements ByteBufAllocator {
  private final ByteBufAllocator delegate;
  private final int initialCapacity;

  PresizedAllocator(ByteBufAllocator delegate, int initialCapacity) {
    this.delegate = delegate;
    this.initialCapacity = initialCapacity;
  }

  @Override public ByteBuf buffer() { return delegate.buffer(initialCapacity); }
  @Override public ByteBuf buffer(int initialCapacity) { return delegate.buffer(initialCapacity); }
  @Override public ByteBuf buffer(int initialCapacity, int maxCapacity) { return delegate.buffer(initialCapacity, maxCapacity); }
  @Override public ByteBuf ioBuffer() { return delegate.ioBuffer(initialCapacity); }
  @Override public ByteBuf ioBuffer(int initialCapacity) { return delegate.ioBuffer(initialCapacity); }
  @Override public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) { return delegate.ioBuffer(initialCapacity, maxCapacity); }
  @Override public ByteBuf heapBuffer() { return delegate.heapBuffer(initialCapacity); }
  @Override public ByteBuf heapBuffer(int initialCapacity) { return delegate.heapBuffer(initialCapacity); }
  @Override public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) { return delegate.heapBuffer(initialCapacity, maxCapacity); }
  @Override public ByteBuf directBuffer() { return delegate.directBuffer(initialCapacity); }
  @Override public ByteBuf directBuffer(int initialCapacity) { return delegate.directBuffer(initialCapacity); }
  @Override public ByteBuf directBuffer(int initialCapacity, int maxCapacity) { return delegate.directBuffer(initialCapacity, maxCapacity); }
  @Override public CompositeByteBuf compositeBuffer() { return delegate.compositeBuffer(); }
  @Override public CompositeByteBuf compositeBuffer(int maxNumComponents) { return delegate.compositeBuffer(maxNumComponents); }
  @Override public CompositeByteBuf compositeHeapBuffer() { return delegate.compositeHeapBuffer(); }
  @Override public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) { return delegate.compositeHeapBuffer(maxNumComponents); }
  @Override public CompositeByteBuf compositeDirectBuffer() { return delegate.compositeDirectBuffer(); }
  @Override public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) { return delegate.compositeDirectBuffer(maxNumComponents); }
  @Override public boolean isDirectBufferPooled() { return delegate.isDirectBufferPooled(); }
  @Override public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
    return delegate.calculateNewCapacity(minNewCapacity, maxCapacity);
  }

  @Override
  public String toString() {
    return "PresizedAllocator(" + initialCapacity + ", " + delegate + ")";
  }
}
