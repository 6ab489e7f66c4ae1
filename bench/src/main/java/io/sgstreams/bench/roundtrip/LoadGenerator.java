package io.sgstreams.bench.roundtrip;

import io.sgstreams.core.envelope.InboundEnvelope;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.ConcurrentHistogram;

/**
 * Sends the requests of one phase at a time (warm-up, then measured) in a closed or open loop and
 * matches each reply to its request by correlation id: latency into an HdrHistogram, and counts of
 * answered, lost, duplicate and failed requests.
 *
 * <p>Closed loop: {@code inflight} requests at first, then one more for every answer. Open loop:
 * request {@code i} is due at {@code start + i / rate}; its latency counts from then, not from
 * when it was actually sent, so a publisher that falls behind shows up as latency (no coordinated
 * omission).
 */
final class LoadGenerator implements RequestSender.Outcome {
  /** Requests still unanswered when nothing was sent or answered for this long are lost. */
  static final Duration LOST_AFTER = Duration.ofSeconds(30);

  private final RoundTripOptions options;
  private final RequestSender sender;
  private final PrintStream progress;
  private final String payload;
  private final Ledger ledger;
  private final AtomicInteger seq = new AtomicInteger();
  private final String run = Long.toString(System.nanoTime(), 36);
  /** What every correlation id of this run starts with, before its sequence number. */
  private final String cidPrefix = "b" + run + "-";
  private volatile ConcurrentHistogram histogram;
  private volatile CountDownLatch done;
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong duplicates = new AtomicLong();
  private final AtomicLong errors = new AtomicLong();
  private final AtomicInteger nextIndex = new AtomicInteger();
  private volatile int total;
  private volatile long lastReplyNanos;
  private volatile long lastSendNanos;

  LoadGenerator(RoundTripOptions options, RequestSender sender, PrintStream progress) {
    this.options = options;
    this.sender = sender;
    this.progress = progress;
    this.payload = "x".repeat(options.payloadBytes());
    this.ledger = new Ledger(options.open() ? 4096 : options.inflight() * 2);
  }

  /** Sends {@code n} requests and waits for their answers (until {@link #LOST_AFTER} passes with no send and no reply). */
  PhaseResult phase(int n) throws InterruptedException {
    histogram = new ConcurrentHistogram(TimeUnit.SECONDS.toMicros(120), 3);
    ledger.clear();
    seq.set(0);
    received.set(0);
    duplicates.set(0);
    errors.set(0);
    nextIndex.set(0);
    total = n;
    done = new CountDownLatch(n);
    long start = System.nanoTime();
    Thread progressReporter = progressReporter(start, n);
    if (options.open()) {
      long interval = (long) (1e9 / options.rate());
      for (int i = 0; i < n; i++) {
        long intended = start + i * interval;
        long wait;
        while ((wait = intended - System.nanoTime()) > 0) {
          LockSupport.parkNanos(Math.min(wait, 100_000));
        }
        send(intended);
      }
    } else {
      int first = Math.min(options.inflight(), n);
      for (int i = 0; i < first; i++) {
        if (nextIndex.getAndIncrement() < n) {
          send(System.nanoTime());
        }
      }
    }
    // done when every request is answered; given up when nothing was sent or answered for LOST_AFTER (a closed
    // loop sends as replies come, so "after the last send" is measured from the latest send or reply)
    boolean complete;
    while (!(complete = done.await(200, TimeUnit.MILLISECONDS))) {
      long last = Math.max(lastSendNanos, lastReplyNanos);
      if (System.nanoTime() - last > LOST_AFTER.toNanos()) {
        break;
      }
    }
    progressReporter.interrupt();
    long end = complete ? lastReplyNanos : System.nanoTime();
    long lost = ledger.outstanding();
    if (!complete) {
      progress.printf("%d requests unanswered %d s after the last send or reply%n", lost, LOST_AFTER.toSeconds());
    }
    return new PhaseResult(Math.max(1e-9, (end - start) / 1e9), received.get(), lost, duplicates.get(), errors.get(),
        histogram.copy());
  }

  private void send(long startNanos) {
    // correlation ids carry a sequence number, so duplicate detection needs one bit per request
    int n = seq.getAndIncrement();
    String cid = cidPrefix + n;
    InboundEnvelope in = InboundEnvelope.create("web", "bench-" + (startNanos & 1023), "bench", payload).withCorrelationId(cid);
    ledger.sent(n, startNanos);
    lastSendNanos = System.nanoTime();
    sender.send(in, this);
  }

  @Override
  public void answered(String cid) {
    long startNanos = ledger.answer(sequence(cid));
    long now = System.nanoTime();
    if (startNanos == Ledger.DUPLICATE) {
      duplicates.incrementAndGet();
      return;
    }
    if (startNanos == Ledger.UNKNOWN) {
      return; // another run's, not ours, or a late answer to a request that failed
    }
    histogram.recordValue(Math.max(0, (now - startNanos) / 1000));
    received.incrementAndGet();
    lastReplyNanos = now;
    done.countDown();
    next();
  }

  /** A request that got an error answer (e.g. HTTP 504/503) is finished: counted in errors, not lost. */
  @Override
  public void failed(String cid) {
    if (ledger.failed(sequence(cid))) {
      errors.incrementAndGet();
      done.countDown();
      next();
    }
  }

  /** The sequence number of one of this run's correlation ids, or -1 (another run's, or not ours). */
  private int sequence(String cid) {
    if (cid == null || !cid.startsWith(cidPrefix) || cid.length() == cidPrefix.length()) {
      return -1;
    }
    try {
      return Integer.parseInt(cid, cidPrefix.length(), cid.length(), 10);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void next() {
    if (!options.open() && nextIndex.getAndIncrement() < total) {
      send(System.nanoTime());
    }
  }

  private Thread progressReporter(long start, int n) {
    Thread t = new Thread(() -> {
      long last = 0;
      long lastT = start;
      while (!Thread.currentThread().isInterrupted()) {
        try {
          Thread.sleep(2000);
        } catch (InterruptedException e) {
          return;
        }
        long now = System.nanoTime();
        long got = received.get();
        progress.printf("  %,d / %,d replies, %.0f/s, %d outstanding, %d errors%n", got, n,
            (got - last) / ((now - lastT) / 1e9), ledger.outstanding(), errors.get());
        last = got;
        lastT = now;
      }
    }, "bench-progress");
    t.setDaemon(true);
    t.start();
    return t;
  }
}
