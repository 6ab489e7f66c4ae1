/**
 * JMH micro-benchmarks of the hot, allocation-sensitive pieces every message passes through: the envelope codec
 * ({@link io.sgstreams.bench.EnvelopeCodecBenchmark}) and envelope id generation
 * ({@link io.sgstreams.bench.IdBenchmark}). Run with {@code java -jar bench/target/benchmarks.jar -prof gc}.
 * The round-trip benchmark of the whole pipeline is in {@link io.sgstreams.bench.roundtrip} (run by the
 * launcher's {@code sg bench}, not part of benchmarks.jar), and {@code bench/run-all.sh} runs both.
 */
package io.sgstreams.bench;
