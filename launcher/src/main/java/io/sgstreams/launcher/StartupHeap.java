package io.sgstreams.launcher;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives back the heap a one-off start-up step grew. The embedded PostgreSQL's first start on a
 * machine unpacks its binaries from an XZ archive in this JVM, and the decoder's dictionary is one
 * large array: the serial collector's old generation grew to the heap's maximum for it, and those
 * pages stayed resident for the life of the process ({@code sg standalone} with the journal: 275–287
 * MB RSS on a first start against 205–225 MB on the next ones, over the 256 MB budget; the collector
 * shrinks a generation only at a full collection, and then in damped steps: 0 %, 10 %, 40 %, 100 % of
 * the excess).
 *
 * <p>{@link #compactIfGrown()} runs one full collection and, when the old generation then commits
 * {@link #SLACK_BYTES} more than it uses (a first start; not the next ones), {@link #compact()}: the
 * free-ratio bounds lowered for four full collections, so the damping reaches 100 %, then put back.
 * The heap is then sized to what is live and grows again under load as usual. Both flags are
 * manageable at run time on HotSpot and honoured by the serial collector ({@code bin/sg}'s choice on
 * ≤ 2 CPUs) and by G1; ZGC, Shenandoah and an adaptive-size Parallel collector ignore them, and
 * with {@code -XX:+DisableExplicitGC} nothing is collected: then it changes nothing.
 *
 * <p>The same unpacking writes each file through NIO, which copies a heap buffer into a temporary
 * direct buffer that the JDK caches per thread, unbounded by default: 26 MB stayed (native memory
 * tracking's "Other": 29.8 MB after a first start, 1.7 MB after a second). {@code bin/sg} bounds that
 * cache ({@code -Djdk.nio.maxCachedBufferSize=262144}); this class sees to the heap.
 */
final class StartupHeap {
  private static final Logger log = LoggerFactory.getLogger(StartupHeap.class);
  /** Full collections to run: the damping of a generation's shrinking reaches 100 % on the fourth. */
  static final int COLLECTIONS = 4;
  /** Compact when the old generation commits this much more than it uses after a full collection. */
  static final long SLACK_BYTES = 32L << 20;

  private StartupHeap() {}

  /** Heap committed before and after, in bytes, and whether the free-ratio collections ran. */
  record Result(long committedBefore, long committedAfter, boolean compacted) {}

  /** One full collection; {@link #compact()} only if the old generation is then far larger than what it holds. */
  static Result compactIfGrown() {
    System.gc();
    long slack = oldGenerationSlack();
    if (slack < SLACK_BYTES) {
      long c = committed();
      return new Result(c, c, false);
    }
    return compact();
  }

  static Result compact() {
    long before = committed();
    HotSpotDiagnosticMXBean hs;
    String min;
    String max;
    try {
      hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      min = hs.getVMOption("MinHeapFreeRatio").getValue();
      max = hs.getVMOption("MaxHeapFreeRatio").getValue();
    } catch (RuntimeException | LinkageError e) {
      log.debug("heap not compacted after start-up: {}", e.toString());
      return new Result(before, before, false);
    }
    try {
      // MinHeapFreeRatio <= MaxHeapFreeRatio at every step: lower the minimum first, restore it last
      hs.setVMOption("MinHeapFreeRatio", "0");
      hs.setVMOption("MaxHeapFreeRatio", "10");
      for (int i = 0; i < COLLECTIONS; i++) {
        System.gc();
      }
    } catch (RuntimeException e) {
      log.debug("heap not compacted after start-up: {}", e.toString());
    } finally {
      restore(hs, "MaxHeapFreeRatio", max);
      restore(hs, "MinHeapFreeRatio", min);
    }
    long after = committed();
    log.debug("heap compacted after start-up: {} -> {} MB committed", before >> 20, after >> 20);
    return new Result(before, after, true);
  }

  private static void restore(HotSpotDiagnosticMXBean hs, String flag, String value) {
    try {
      hs.setVMOption(flag, value);
    } catch (RuntimeException e) {
      log.warn("could not restore {}={} after compacting the heap: {}", flag, value, e.toString());
    }
  }

  /** Committed minus used of the old generation's pool; 0 when there is none to tell (ZGC, Shenandoah). */
  static long oldGenerationSlack() {
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      String name = pool.getName();
      if (pool.getType() == MemoryType.HEAP && (name.contains("Old") || name.contains("Tenured"))) {
        var u = pool.getUsage();
        return u == null ? 0 : Math.max(0, u.getCommitted() - u.getUsed());
      }
    }
    return 0;
  }

  private static long committed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
  }
}
