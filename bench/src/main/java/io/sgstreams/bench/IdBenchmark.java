package io.sgstreams.bench;

import io.sgstreams.core.envelope.Ids;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * UUIDv7 envelope ids ({@link Ids}): one per request and one per reply. Single-threaded, so the CAS on the
 * shared counter is uncontended here; in the pipeline several event loops call it at once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class IdBenchmark {

    /** The 36-character string form written on the wire. */
    @Benchmark
    public String newId() {
        return Ids.newId();
    }

    /** The UUID alone, to separate generation from {@code UUID.toString()}. */
    @Benchmark
    public UUID newUuid() {
        return Ids.newUuid();
    }
}
