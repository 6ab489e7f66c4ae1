package io.sgstreams.core.ops;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.metrics.StreamMetrics;
import io.sgstreams.core.redis.internal.RedisScript;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Each node's message counter totals in Redis, so the ops page of any gateway shows the rates of the
 * whole cluster: Prometheus counters live in each process, and a page served by one node would
 * otherwise see only its own traffic. Every {@link #EVERY} a node writes its totals of {@link #COUNTED}
 * (summed over streams and groups, for its role) to a hash {@link Topology#nodeCountersKey} that
 * expires after {@link #TTL}, and records itself in the index {@link Topology#nodeCountersIndex}
 * scored by time; a reader takes the nodes seen within the TTL. Totals, not rates, are stored: the
 * page differentiates over time per node, so a restarted node (its totals back at 0) does not show
 * a negative rate. Every command touches one key (each write is one script over one key), so it runs
 * on a Redis Cluster.
 */
public final class NodeCounters {
  /** How often a node reports. */
  public static final Duration EVERY = Duration.ofSeconds(2);
  /** How long a report lives: a node that stopped drops out of the sums after this. */
  public static final Duration TTL = Duration.ofSeconds(15);
  /** Field name in the hash and the snapshot → the counter it totals. */
  public static final Map<String, String> COUNTED = orderedCounted();

  /** KEYS[1] hash; ARGV[1] ttl ms; ARGV[2..] field, value pairs. */
  private static final RedisScript WRITE = new RedisScript("node-counters-write", """
      for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
      redis.call('PEXPIRE', KEYS[1], ARGV[1])
      return 1
      """, ScriptOutputType.INTEGER);

  /** KEYS[1] index; ARGV[1] now ms; ARGV[2] node; ARGV[3] ttl ms. Drops nodes older than the ttl. */
  private static final RedisScript INDEX = new RedisScript("node-counters-index", """
      redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[3]))
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
      return 1
      """, ScriptOutputType.INTEGER);

  /** One node's totals as last reported. */
  public record Report(String node, String role, long atMillis, Map<String, Long> totals) {}

  private NodeCounters() {}

  private static Map<String, String> orderedCounted() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("published", StreamMetrics.PUBLISHED);
    m.put("acked", StreamMetrics.ACKED);
    m.put("dead_lettered", StreamMetrics.DEAD_LETTERED);
    m.put("refused", StreamMetrics.REFUSED);
    return java.util.Collections.unmodifiableMap(m);
  }

  /**
   * Reports {@code bus}'s node (its consumer name, e.g. {@code worker-node1}: unique per role and node)
   * now and every {@link #EVERY} until disposed. A failed report (Redis unreachable) is skipped, not
   * retried: the next tick writes fresh totals, and a node that cannot report for {@link #TTL} drops off the page,
   * which is the truth.
   */
  public static Disposable start(RedisEventBus bus) {
    return Flux.interval(Duration.ZERO, EVERY, Schedulers.parallel())
        .onBackpressureDrop()
        .concatMap(i -> report(bus).onErrorResume(e -> Mono.empty()), 1)
        .subscribe();
  }

  /** This node's totals for its role, summed over every stream and group. */
  public static Map<String, Long> totals(MeterRegistry registry, String role) {
    Map<String, Long> out = new LinkedHashMap<>();
    COUNTED.forEach((field, meter) -> {
      double sum = 0;
      for (Counter c : registry.find(meter).tag("role", role).counters()) {
        sum += c.count();
      }
      out.put(field, (long) sum);
    });
    return out;
  }

  /** Writes one report of {@code bus}'s node. */
  public static Mono<Void> report(RedisEventBus bus) {
    Topology t = bus.topology();
    String node = bus.consumerName();
    long now = System.currentTimeMillis();
    List<byte[]> args = new ArrayList<>();
    args.add(RedisScript.arg(TTL.toMillis()));
    args.add(RedisScript.arg("role"));
    args.add(RedisScript.arg(bus.metrics().role()));
    args.add(RedisScript.arg("at"));
    args.add(RedisScript.arg(now));
    totals(bus.metrics().registry(), bus.metrics().role()).forEach((k, v) -> {
      args.add(RedisScript.arg(k));
      args.add(RedisScript.arg(v));
    });
    return WRITE.run(bus.connections(), new String[] {t.nodeCountersKey(node)}, args.toArray(byte[][]::new))
        .then(INDEX.run(bus.connections(), new String[] {t.nodeCountersIndex()},
            RedisScript.arg(now), RedisScript.arg(node), RedisScript.arg(TTL.toMillis())))
        .then();
  }

  /** The reports of every node seen within {@link #TTL}, by node name. */
  public static Mono<List<Report>> read(RedisEventBus bus) {
    Topology t = bus.topology();
    long now = System.currentTimeMillis();
    var cmd = bus.connections().commands();
    return cmd.zrangebyscore(t.nodeCountersIndex(), Range.create((double) (now - TTL.toMillis()), Double.POSITIVE_INFINITY))
        .map(b -> new String(b, StandardCharsets.UTF_8))
        .sort()
        .concatMap(node -> cmd.hgetall(t.nodeCountersKey(node)).collectMap(kv -> kv.getKey(),
                kv -> new String(kv.getValue(), StandardCharsets.UTF_8))
            .filter(m -> !m.isEmpty())
            .map(m -> {
              Map<String, Long> totals = new LinkedHashMap<>();
              COUNTED.keySet().forEach(f -> totals.put(f, number(m.get(f))));
              return new Report(node, m.getOrDefault("role", ""), number(m.get("at")), totals);
            }))
        .collectList();
  }

  private static long number(String s) {
    try {
      return s == null ? 0 : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
