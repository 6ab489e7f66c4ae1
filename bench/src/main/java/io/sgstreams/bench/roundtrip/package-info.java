/**
 * The round-trip benchmark of the whole pipeline, {@code sg bench}: publisher → inbound stream → W echo
 * workers → outbound stream → reply matched by correlation id, in one process, printing one JSON line.
 *
 * <table>
 *   <caption>Where things are</caption>
 *   <tr><th>class</th><th>what</th></tr>
 *   <tr><td>{@link io.sgstreams.bench.roundtrip.RoundTripOptions}</td><td>the flags, parsed and checked</td></tr>
 *   <tr><td>{@link io.sgstreams.bench.roundtrip.RoundTripBenchmark}</td><td>the runner: Redis (given or embedded),
 *       buses, worker nodes, gateway or reply tail, warm-up and measured phase, teardown</td></tr>
 *   <tr><td>{@code LoadGenerator}</td><td>one phase: closed or open loop, replies matched by correlation id,
 *       latency histogram, lost / duplicate / error counts, progress lines</td></tr>
 *   <tr><td>{@code StreamRequestSender}, {@code HttpRequestSender}</td><td>{@code --via stream} (core bus) and
 *       {@code --via http} (the gateway's {@code POST /v1/messages?wait=})</td></tr>
 *   <tr><td>{@link io.sgstreams.bench.roundtrip.PhaseResult}</td><td>what one phase counted</td></tr>
 *   <tr><td>{@link io.sgstreams.bench.roundtrip.ResourceSnapshot}</td><td>process CPU, heap after GC, RSS
 *       ({@code /proc}), Redis CPU ({@code INFO cpu}) at one moment</td></tr>
 *   <tr><td>{@link io.sgstreams.bench.roundtrip.RoundTripResult}</td><td>the result and its JSON line</td></tr>
 * </table>
 *
 * <p>The launcher's {@code sg bench} parses the command line into {@code RoundTripOptions}, calls
 * {@code RoundTripBenchmark.run} and prints {@code RoundTripResult.jsonLine()}. Nothing here touches Redis but
 * through core's {@code RedisEventBus}; without {@code --redis} the run starts the test kit's embedded Redis.
 */
package io.sgstreams.bench.roundtrip;
