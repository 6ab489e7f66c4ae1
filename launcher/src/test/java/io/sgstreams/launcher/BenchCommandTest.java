package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.bench.roundtrip.RoundTripOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code sg bench}'s command line: flags into the bench module's options, mistakes into usage errors (no run). */
class BenchCommandTest {
  /** The flags as picocli hands them over ({@code BenchCli}): name without dashes to raw value. */
  private static RoundTripOptions options(Map<String, String> env, String... args) {
    Map<String, String> given = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      given.put(args[i].substring(2), args[i + 1]);
    }
    return BenchCommand.options(new Cli(List.of(), given), env);
  }

  @Test
  void flagsBecomeTheHarnesssOptions() {
    RoundTripOptions d = options(Map.of());
    assertEquals(RoundTripOptions.builder().build(), d);

    RoundTripOptions o = options(Map.of("REDIS_URL", "redis://env:1"), "--messages", "20000", "--warmup", "5000",
        "--workers", "2", "--payload-bytes", "64", "--mode", "open", "--rate", "2500", "--duration", "3",
        "--via", "http", "--jit-settle", "0");
    assertEquals(20_000, o.messages());
    assertEquals(0, o.jitSettleSeconds());
    assertEquals(30, d.jitSettleSeconds());
    assertEquals(5000, o.warmup());
    assertEquals(2, o.workers());
    assertEquals(64, o.payloadBytes());
    assertEquals(RoundTripOptions.Mode.OPEN, o.mode());
    assertEquals(2500, o.rate());
    assertEquals(3, o.durationSeconds());
    assertEquals(RoundTripOptions.Via.HTTP, o.via());
    assertEquals("redis://env:1", o.redisUrl(), "$REDIS_URL without --redis");
    assertEquals("redis://flag:2", options(Map.of("REDIS_URL", "redis://env:1"), "--redis", "redis://flag:2").redisUrl());
    assertNull(options(Map.of("REDIS_URL", "")).redisUrl(), "blank: embedded");
  }

  @Test
  void mistakesAreUsageErrorsNamingTheFlag() {
    usage("--messages must be a positive whole number", "--messages", "1.5");
    usage("--workers must be a positive whole number", "--workers", "0");
    usage("--payload-bytes must be between 0 and 524288", "--payload-bytes", "600000");
    usage("--mode must be closed or open", "--mode", "fast");
    usage("--rate must be positive", "--mode", "open", "--rate", "0");
    usage("--duration needs --mode open", "--duration", "10");
    usage("--warmup must not be negative", "--warmup", "-1");
    usage("--jit-settle must be a whole number of seconds, 0 or more", "--jit-settle", "-1");
    usage("--jit-settle must be a whole number of seconds, 0 or more", "--jit-settle", "2.5");
    usage("--via must be stream or http", "--via", "grpc");
    usage("--rate must be a number, got 'lots'", "--rate", "lots");
  }

  @Test
  void sgBenchPrintsItsHelpAndRefusesBadFlagsWithStatus2() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    assertEquals(0, Sg.run(List.of("bench", "--help"), Map.of(), print(out), print(err)));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: sg bench"), out.toString(StandardCharsets.UTF_8));

    List<String> args = new ArrayList<>(List.of("bench", "--mode", "fast"));
    assertEquals(2, Sg.run(args, Map.of(), print(out), print(err)));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("sg bench: --mode must be closed or open"), err.toString(StandardCharsets.UTF_8));
  }

  private static void usage(String message, String... args) {
    Cli.UsageException e = assertThrows(Cli.UsageException.class, () -> options(Map.of(), args));
    assertEquals(message, e.getMessage());
  }

  private static PrintStream print(ByteArrayOutputStream b) {
    return new PrintStream(b, true, StandardCharsets.UTF_8);
  }
}
