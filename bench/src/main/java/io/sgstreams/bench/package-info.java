/**
 * JMH micro-benchmarks of the hot, allocation-sensitive pieces every message passes through: the envelope codec
 * ({@link io.sgstreams.bench.EnvelopeCodecBenchmark}) and envelope id generation
 * ({@link io.sgstreams.bench.IdBenchmark}). Run with {@code java -jar bench/target/benchmarks.jar -prof gc};
 * the round-trip benchmark of the whole pipeline is {@code sg bench} (launcher), and {@code bench/run-all.sh}
 * runs both.
 */
package io.sgstreams.bench;
