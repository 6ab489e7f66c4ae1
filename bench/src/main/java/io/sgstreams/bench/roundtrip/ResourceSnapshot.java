package io.sgstreams.bench.roundtrip;

import io.sgstreams.core.bus.RedisEventBus;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * This process's CPU time, heap after a GC and resident set size, and the Redis server's CPU
 * time, at one moment: taken before and after the measured phase, their differences are the
 * JSON line's {@code client_cpu_s} and {@code redis_cpu_s}, the values themselves its heap and
 * RSS figures.
 *
 * @param processCpuNanos CPU time of this JVM (every thread), from the operating system
 * @param redisCpuSeconds {@code used_cpu_sys + used_cpu_user} of Redis ({@code INFO cpu}); NaN when Redis did not answer
 * @param heapAfterGcMb used heap right after {@code System.gc()}, MiB
 * @param rssMb resident set size ({@code VmRSS} of {@code /proc/self/status}), MiB; -1 where there is no /proc
 * @param compileMillis time the JIT compilers have spent so far ({@link JitSettle#compileMillis()}), -1 if unknown
 */
public record ResourceSnapshot(long processCpuNanos, double redisCpuSeconds, long heapAfterGcMb, long rssMb,
    long compileMillis) {

  public ResourceSnapshot(long processCpuNanos, double redisCpuSeconds, long heapAfterGcMb, long rssMb) {
    this(processCpuNanos, redisCpuSeconds, heapAfterGcMb, rssMb, -1);
  }

  /** Runs a full GC first, so that the heap figure is what is live. */
  public static ResourceSnapshot take(RedisEventBus bus) {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    long heap = (rt.totalMemory() - rt.freeMemory()) >> 20;
    long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    double redisCpu;
    try {
      redisCpu = bus.serverCpuSeconds().block(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      redisCpu = Double.NaN;
    }
    return new ResourceSnapshot(cpu, redisCpu, heap, currentRssMb(), JitSettle.compileMillis());
  }

  /** CPU seconds this process used between {@code before} and this snapshot. */
  public double processCpuSecondsSince(ResourceSnapshot before) {
    return (processCpuNanos - before.processCpuNanos) / 1e9;
  }

  /** Milliseconds the JIT compilers spent between {@code before} and this snapshot, or -1 if unknown. */
  public long compileMillisSince(ResourceSnapshot before) {
    return compileMillis < 0 || before.compileMillis < 0 ? -1 : compileMillis - before.compileMillis;
  }

  /** CPU seconds Redis used between {@code before} and this snapshot. */
  public double redisCpuSecondsSince(ResourceSnapshot before) {
    return redisCpuSeconds - before.redisCpuSeconds;
  }

  static long currentRssMb() {
    try {
      return rssMb(Files.readAllLines(Path.of("/proc/self/status")));
    } catch (IOException e) {
      return -1; // not Linux
    }
  }

  /** {@code VmRSS:   181234 kB} of a {@code /proc/PID/status} file, in MiB; -1 when absent or unreadable. */
  static long rssMb(List<String> procStatusLines) {
    for (String l : procStatusLines) {
      if (l.startsWith("VmRSS:")) {
        try {
          return Long.parseLong(l.replaceAll("[^0-9]", "")) >> 10;
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }
}
