package io.sgstreams.core.bus;

import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The arguments of one published envelope's XADD ({@link XaddArgs}: the stream, {@code MAXLEN ~ n},
 * {@code * data … ts … trace_id …}) written into a direct buffer from Netty's default allocator (4.2's
 * adaptive one, which Lettuce's connections use) or 4.1's pooled one: what the publisher pays per message
 * on top of Lettuce's own command framing. In {@code io.sgstreams.core.bus} because the encoder is
 * package-private there.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class XaddEncodeBenchmark {

  @Param({"adaptive", "pooled"})
  public String allocator;

  private ByteBufAllocator alloc;
  private XaddArgs args;

  @Setup
  public void setUp() {
    alloc = allocator.equals("pooled") ? PooledByteBufAllocator.DEFAULT : new AdaptiveByteBufAllocator();
    byte[] data = new byte[586]; // the size of the closed loop's inbound envelope
    new Random(1).nextBytes(data);
    StreamFields.Envelope fields = (StreamFields.Envelope) StreamFields.envelope(data, 1_720_000_000_123L,
        "0af7651916cd43dd8448eb211c80319c");
    args = new XaddArgs("sg:stream:inbound", XaddArgs.encode(List.of("MAXLEN", "~", "100000")), fields);
  }

  /** A small direct buffer (it grows, as a command buffer does), the arguments written into it, released. */
  @Benchmark
  public int encode() {
    ByteBuf buf = alloc.directBuffer(64);
    try {
      args.encode(buf);
      return buf.writerIndex();
    } finally {
      buf.release();
    }
  }
}
