package io.sgstreams.bench.roundtrip;

import org.HdrHistogram.Histogram;

/**
 * What one phase (warm-up or measured) of a round-trip run counted.
 *
 * @param seconds from the first send to the last reply (or to giving up on the unanswered ones)
 * @param received requests answered once (each one's latency is in {@code latencyMicros})
 * @param lost requests still unanswered when the phase gave up waiting
 * @param duplicates replies to a request that had already been answered
 * @param errors requests answered with an error (an HTTP status other than 200, a failed publish)
 * @param latencyMicros round-trip latency of every answered request, in microseconds
 */
public record PhaseResult(double seconds, long received, long lost, long duplicates, long errors, Histogram latencyMicros) {}
