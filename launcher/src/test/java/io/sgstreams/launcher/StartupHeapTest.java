package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartupHeapTest {

  /**
   * In a JVM with bin/sg's heap flags, a start-up step that needed one 64 MB array (what unpacking
   * the embedded PostgreSQL's XZ archive does) leaves the old generation grown. 40 MB stay live, so
   * the default free ratios (up to 70 % free) would keep the old generation as it is: only the
   * lowered ratios, through all four damped steps, give the difference back.
   */
  @Test
  void givesBackWhatAStartUpStepGrewInAJvmWithTheLaunchersFlags(@TempDir Path dir) throws Exception {
    Properties r = child(dir, "grow");
    long initial = Long.parseLong(r.getProperty("initial"));
    long grown = Long.parseLong(r.getProperty("grown"));
    long before = Long.parseLong(r.getProperty("before"));
    long after = Long.parseLong(r.getProperty("after"));
    assertTrue(grown >= initial + (48L << 20), "the child's heap did not grow for the array: " + r);
    assertEquals("true", r.getProperty("compacted"), "an old generation with 60+ MB to spare is compacted: " + r);
    assertTrue(after <= before - (32L << 20), "compactIfGrown() left the heap at " + (after >> 20) + " MB of "
        + (before >> 20) + ": " + r);
    assertEquals("40", r.getProperty("min"), "MinHeapFreeRatio restored");
    assertEquals("70", r.getProperty("max"), "MaxHeapFreeRatio restored");
  }

  /** A start that unpacked nothing (a second start) costs one collection, not five. */
  @Test
  void leavesAHeapThatDidNotGrowAlone(@TempDir Path dir) throws Exception {
    Properties r = child(dir, "steady");
    assertEquals("false", r.getProperty("compacted"), "nothing to give back: " + r);
    assertEquals("40", r.getProperty("min"));
    assertEquals("70", r.getProperty("max"));
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

  private static Properties child(Path dir, String mode) throws Exception {
    Path out = dir.resolve(mode + ".properties");
    Path log = dir.resolve(mode + ".log");
    ProcessBuilder pb = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-Xms64m", "-Xmx160m", "-Xmn48m", "-XX:MinHeapFreeRatio=40", "-XX:MaxHeapFreeRatio=70",
        "-cp", System.getProperty("java.class.path"), Child.class.getName(), mode, out.toString()))
        .redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().remove("JAVA_TOOL_OPTIONS"); // another collector from there would not start with these flags
    pb.environment().remove("JDK_JAVA_OPTIONS");
    Process p = pb.start();
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not finish");
    assertEquals(0, p.exitValue(), () -> "child failed: " + read(log));
    Properties r = new Properties();
    try (var in = Files.newBufferedReader(out, StandardCharsets.UTF_8)) {
      r.load(in);
    }
    return r;
  }

  private static String read(Path f) {
    try {
      return Files.readString(f);
    } catch (Exception e) {
      return e.toString();
    }
  }

  /**
   * The child JVM. {@code grow}: 40 MB kept live, then one 64 MB array touched and dropped (no
   * collection in between, as during the unpacking), then {@link StartupHeap#compactIfGrown()}.
   * {@code steady}: only the live data.
   */
  public static final class Child {
    static volatile byte[][] live;
    static volatile byte[] sink;

    public static void main(String[] args) throws Exception {
      long initial = committed();
      live = new byte[40][];
      for (int i = 0; i < live.length; i++) {
        live[i] = new byte[1 << 20];
      }
      if (args[0].equals("grow")) {
        sink = new byte[64 << 20];
        for (int i = 0; i < sink.length; i += 4096) {
          sink[i] = 1; // touched, as the decoder does
        }
      }
      long grown = committed();
      sink = null;
      StartupHeap.Result r = StartupHeap.compactIfGrown();
      HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
      Properties p = new Properties();
      p.setProperty("initial", Long.toString(initial));
      p.setProperty("grown", Long.toString(grown));
      p.setProperty("before", Long.toString(r.committedBefore()));
      p.setProperty("after", Long.toString(r.committedAfter()));
      p.setProperty("compacted", Boolean.toString(r.compacted()));
      p.setProperty("live", Integer.toString(live.length)); // keeps the live data reachable until here
      p.setProperty("min", hs.getVMOption("MinHeapFreeRatio").getValue());
      p.setProperty("max", hs.getVMOption("MaxHeapFreeRatio").getValue());
      try (var w = Files.newBufferedWriter(Path.of(args[1]), StandardCharsets.UTF_8)) {
        p.store(w, null);
      }
    }

    private static long committed() {
      return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }
  }
}
