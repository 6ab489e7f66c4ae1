package io.sgstreams.bench.roundtrip;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * The rest of the warm-up: after the {@code --warmup} requests, more requests in steps of about a second until
 * the JIT compilers were quiet during one step, so that the measured phase is the pipeline's steady state and
 * not the compilers' start-up work.
 *
 * <p>Why: on two vCPUs shared with Redis, the C2 compiler was still busy about a second of CPU per second when
 * 100,000 warm-up round trips had passed, and spent a sixth of the JVM's CPU in the measured phase of a
 * 200,000-message closed loop (docs/performance.md). A long-running node pays that once; a run that measures it
 * reports a start-up cost as a per-message one. Quiet means the compilers' time ({@link
 * CompilationMXBean#getTotalCompilationTime()}, summed over compiler threads) grew by at most {@link
 * #QUIET_SHARE} of the step's wall time; the JSON line reports the requests the warm-up took in all and the
 * compilers' time during the measured phase, so a run whose compilers never settled shows it.
 */
final class JitSettle {
  /** Compilation time per wall time of a step below which the compilers count as quiet: 5 % of one core. */
  static final double QUIET_SHARE = 0.05;

  private JitSettle() {}

  /** Milliseconds the JIT compilers have spent so far, or -1 where the JVM does not say. */
  static long compileMillis() {
    CompilationMXBean c = ManagementFactory.getCompilationMXBean();
    return c != null && c.isCompilationTimeMonitoringSupported() ? c.getTotalCompilationTime() : -1;
  }

  /**
   * Runs steps of about a second of requests until one was quiet or {@code o.jitSettleSeconds()} passed (none when
   * that is 0); {@code warm} is the warm-up phase's result, which sizes a closed loop's first step.
   *
   * @return the requests sent
   */
  static long settle(LoadGenerator load, RoundTripOptions o, PhaseResult warm, PrintStream progress)
      throws InterruptedException {
    if (o.jitSettleSeconds() <= 0 || compileMillis() < 0) {
      return 0;
    }
    long start = System.nanoTime();
    long deadline = start + o.jitSettleSeconds() * 1_000_000_000L;
    int step = stepFor(o, warm);
    long sent = 0;
    while (true) {
      long c0 = compileMillis();
      long t0 = System.nanoTime();
      PhaseResult r = load.phase(step);
      long t1 = System.nanoTime();
      sent += step;
      double wallMs = (t1 - t0) / 1e6;
      long compiled = compileMillis() - c0;
      if (compiled <= QUIET_SHARE * wallMs) {
        progress.printf("warmup: JIT quiet after %d more requests (%.1f s; %d ms compiling in the last %.0f ms)%n",
            sent, (t1 - start) / 1e9, compiled, wallMs);
        return sent;
      }
      if (t1 - deadline >= 0) {
        progress.printf("warmup: JIT still compiling after %d more requests (%d s, --jit-settle): measuring anyway "
            + "(%d ms compiling in the last %.0f ms)%n", sent, o.jitSettleSeconds(), compiled, wallMs);
        return sent;
      }
      if (!o.open()) {
        step = stepFor(o, r);
      }
    }
  }

  /** About a second of requests: the open loop's rate, or what the closed loop answered per second; at least 1,000. */
  static int stepFor(RoundTripOptions o, PhaseResult last) {
    double perSecond = o.open() ? o.rate() : last.received() / Math.max(1e-9, last.seconds());
    return (int) Math.max(1_000, Math.min(perSecond, 1_000_000));
  }
}
