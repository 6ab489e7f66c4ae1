package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.File;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupHeapTest {

  /**
   * In a JVM with bin/sg's heap flags, a start-up step that needed one 64 MB array (what unpacking
   * the embedded PostgreSQL's XZ archive does) leaves the old generation grown; compact() gives it
   * back and leaves the free-ratio flags as they were.
   */
  @Test
  void givesBackWhatAStartUpStepGrewInAJvmWithTheLaunchersFlags(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("child.properties");
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-Xms64m", "-Xmx160m", "-Xmn48m", "-XX:MinHeapFreeRatio=40", "-XX:MaxHeapFreeRatio=70",
        "-cp", System.getProperty("java.class.path"), Child.class.getName(), out.toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
        .start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, p.exitValue(), () -> "child failed: " + read(dir.resolve("child.log")));
    Properties r = new Properties();
    try (var in = Files.newBufferedReader(out, StandardCharsets.UTF_8)) {
      r.load(in);
    }
    long grown = Long.parseLong(r.getProperty("grown"));
    long before = Long.parseLong(r.getProperty("before"));
    long after = Long.parseLong(r.getProperty("after"));
    assertTrue(grown >= 64L << 20, "the child's heap did not grow for the array: " + r);
    assertTrue(before >= grown, "one ordinary collection already gave the heap back, nothing to test: " + r);
    assertTrue(after <= before - (32L << 20), "compact() left the heap at " + (after >> 20) + " MB of " + (before >> 20));
    assertEquals("40", r.getProperty("min"), "MinHeapFreeRatio restored");
    assertEquals("70", r.getProperty("max"), "MaxHeapFreeRatio restored");
  }

  @Test
  void leavesThisJvmsFlagsAsTheyWere() {
    HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    String min = hs.getVMOption("MinHeapFreeRatio").getValue();
    String max = hs.getVMOption("MaxHeapFreeRatio").getValue();
    StartupHeap.Result r = StartupHeap.compact();
    assertTrue(r.committedBefore() > 0 && r.committedAfter() > 0);
    assertEquals(min, hs.getVMOption("MinHeapFreeRatio").getValue());
    assertEquals(max, hs.getVMOption("MaxHeapFreeRatio").getValue());
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (Exception e) {
      return e.toString();
    }
  }

  /** The child JVM: grow the heap for one large array, drop it, collect once as the JVM would, compact. */
  public static final class Child {
    static volatile byte[] sink;

    public static void main(String[] args) throws Exception {
      sink = new byte[64 << 20];
      for (int i = 0; i < sink.length; i += 4096) {
        sink[i] = 1; // touched, as the decoder does
      }
      long grown = committed();
      sink = null;
      System.gc(); // an ordinary full collection shrinks nothing yet (the damping's first step is 0 %)
      long before = committed();
      StartupHeap.Result r = StartupHeap.compact();
      HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      Properties p = new Properties();
      p.setProperty("grown", Long.toString(grown));
      p.setProperty("before", Long.toString(before));
      p.setProperty("after", Long.toString(r.committedAfter()));
      p.setProperty("min", hs.getVMOption("MinHeapFreeRatio").getValue());
      p.setProperty("max", hs.getVMOption("MaxHeapFreeRatio").getValue());
      try (var w = Files.newBufferedWriter(new File(args[0]).toPath(), StandardCharsets.UTF_8)) {
        p.store(w, null);
      }
    }

    private static long committed() {
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }
  }
}
