package io.sgstreams.bench.roundtrip;

import java.util.Locale;

/**
 * What one round-trip run does: the flags of {@code sg bench}, already parsed. The constructor
 * checks every value; an invalid one is an {@link IllegalArgumentException} whose message names
 * the flag ({@code --payload-bytes must be between 0 and 524288}).
 *
 * @param messages measured requests ({@code --messages}; in an open loop with a duration, ignored)
 * @param workers worker nodes, each its own consumer in the group ({@code --workers})
 * @param payloadBytes size of each request's content ({@code --payload-bytes})
 * @param mode closed loop (at most {@code inflight} outstanding) or open loop (a fixed {@code rate})
 * @param inflight outstanding requests in the closed loop ({@code --inflight})
 * @param rate requests per second in the open loop ({@code --rate})
 * @param durationSeconds open loop for this many seconds instead of {@code messages}, or null ({@code --duration})
 * @param warmup requests run first and not counted ({@code --warmup})
 * @param jitSettleSeconds after the warm-up's requests, keep warming up in steps of about a second until the JIT
 *     compilers were quiet during a step, for at most this many seconds; 0 turns it off ({@code --jit-settle})
 * @param via publish with the core bus, or POST to a gateway ({@code --via})
 * @param redisUrl the Redis to use, or null for an embedded one without persistence ({@code --redis})
 * @param journal run the journal beside the pipeline ({@code --journal}: a gateway's journal consumer
 *     writing every envelope to PostgreSQL, {@code POSTGRES_URL} or an embedded PostgreSQL)
 */
public record RoundTripOptions(int messages, int workers, int payloadBytes, Mode mode, int inflight, double rate,
    Integer durationSeconds, int warmup, int jitSettleSeconds, Via via, String redisUrl, boolean journal) {

  public static final int DEFAULT_MESSAGES = 200_000;
  public static final int DEFAULT_WORKERS = 4;
  public static final int DEFAULT_PAYLOAD_BYTES = 256;
  public static final int MAX_PAYLOAD_BYTES = 512 * 1024;
  public static final int DEFAULT_INFLIGHT = 1000;
  public static final double DEFAULT_RATE = 5000;
  public static final int DEFAULT_WARMUP = 100_000;
  public static final int DEFAULT_JIT_SETTLE_SECONDS = 30;

  /** {@code --mode}: how requests are paced. */
  public enum Mode {
    /** At most {@code inflight} outstanding; a new request for every reply. */
    CLOSED,
    /** {@code rate} requests per second on a fixed schedule; latency from each request's intended send time. */
    OPEN;

    /** As written on the command line and in the JSON line: {@code closed}, {@code open}. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String s) {
      for (Mode m : values()) {
        if (m.wire().equals(s)) {
          return m;
        }
      }
      throw new IllegalArgumentException("--mode must be closed or open");
    }
  }

  /** {@code --via}: how requests reach the inbound stream. */
  public enum Via {
    /** Published with the core bus; replies read from the outbound stream. */
    STREAM,
    /** {@code POST /v1/messages?wait=30} to a gateway in the same process; the reply is the response. */
    HTTP;

    /** As written on the command line and in the JSON line: {@code stream}, {@code http}. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Via parse(String s) {
      for (Via v : values()) {
        if (v.wire().equals(s)) {
          return v;
        }
      }
      throw new IllegalArgumentException("--via must be stream or http");
    }
  }

  public RoundTripOptions {
    positive("messages", messages);
    positive("workers", workers);
    if (payloadBytes < 0 || payloadBytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("--payload-bytes must be between 0 and " + MAX_PAYLOAD_BYTES);
    }
    if (mode == null) {
      throw new IllegalArgumentException("--mode must be closed or open");
    }
    positive("inflight", inflight);
    if (mode == Mode.OPEN && !(rate > 0)) {
      throw new IllegalArgumentException("--rate must be positive");
    }
    if (durationSeconds != null) {
      positive("duration", durationSeconds);
      if (mode != Mode.OPEN) {
        throw new IllegalArgumentException("--duration needs --mode open");
      }
    }
    if (warmup < 0) {
      throw new IllegalArgumentException("--warmup must not be negative");
    }
    if (jitSettleSeconds < 0) {
      throw new IllegalArgumentException("--jit-settle must not be negative");
    }
    if (via == null) {
      throw new IllegalArgumentException("--via must be stream or http");
    }
    redisUrl = redisUrl == null || redisUrl.isBlank() ? null : redisUrl;
  }

  /** Every flag at its default: closed loop, 200,000 messages, 4 workers, embedded Redis. */
  public static Builder builder() {
    return new Builder();
  }

  public boolean open() {
    return mode == Mode.OPEN;
  }

  /** Requests in the measured phase: {@code rate × duration} in an open loop with a duration, else {@code messages}. */
  public int measuredRequests() {
    return durationSeconds != null ? (int) Math.round(rate * durationSeconds) : messages;
  }

  private static void positive(String flag, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("--" + flag + " must be a positive whole number");
    }
  }

  /** The defaults, changed one flag at a time; {@link #build()} checks them. */
  public static final class Builder {
    private int messages = DEFAULT_MESSAGES;
    private int workers = DEFAULT_WORKERS;
    private int payloadBytes = DEFAULT_PAYLOAD_BYTES;
    private Mode mode = Mode.CLOSED;
    private int inflight = DEFAULT_INFLIGHT;
    private double rate = DEFAULT_RATE;
    private Integer durationSeconds;
    private int warmup = DEFAULT_WARMUP;
    private int jitSettleSeconds = DEFAULT_JIT_SETTLE_SECONDS;
    private Via via = Via.STREAM;
    private String redisUrl;
    private boolean journal;

    private Builder() {}

    public Builder messages(int n) {
      this.messages = n;
      return this;
    }

    public Builder workers(int n) {
      this.workers = n;
      return this;
    }

    public Builder payloadBytes(int n) {
      this.payloadBytes = n;
      return this;
    }

    public Builder mode(Mode m) {
      this.mode = m;
      return this;
    }

    public Builder inflight(int n) {
      this.inflight = n;
      return this;
    }

    public Builder rate(double perSecond) {
      this.rate = perSecond;
      return this;
    }

    /** Null: run {@code messages} requests. */
    public Builder durationSeconds(Integer seconds) {
      this.durationSeconds = seconds;
      return this;
    }

    public Builder warmup(int n) {
      this.warmup = n;
      return this;
    }

    /** 0: measure right after the warm-up's requests, whatever the JIT compilers are doing. */
    public Builder jitSettleSeconds(int seconds) {
      this.jitSettleSeconds = seconds;
      return this;
    }

    public Builder via(Via v) {
      this.via = v;
      return this;
    }

    /** Null or blank: an embedded Redis. */
    public Builder redisUrl(String url) {
      this.redisUrl = url;
      return this;
    }

    /** Run the journal (a gateway's journal consumer into PostgreSQL) during the benchmark. */
    public Builder journal(boolean on) {
      this.journal = on;
      return this;
    }

    public RoundTripOptions build() {
      return new RoundTripOptions(messages, workers, payloadBytes, mode, inflight, rate, durationSeconds, warmup,
          jitSettleSeconds, via, redisUrl, journal);
    }
  }
}
