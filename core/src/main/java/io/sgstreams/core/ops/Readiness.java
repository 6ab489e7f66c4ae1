package io.sgstreams.core.ops;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Named readiness checks (Redis reachable, consumer loops alive, …). A check that errors or takes
 * longer than the timeout counts as failed.
 */
public final class Readiness {
  private record Check(String name, Supplier<Mono<Boolean>> probe) {}

  /** The outcome: every check by name, and whether all passed. */
  public record Report(boolean ready, Map<String, Boolean> checks) {}

  private final List<Check> checks = new CopyOnWriteArrayList<>();
  private final Duration timeout;

  public Readiness(Duration timeout) {
    this.timeout = timeout;
  }

  public Readiness add(String name, Supplier<Mono<Boolean>> probe) {
    checks.add(new Check(name, probe));
    return this;
  }

  public Readiness addSync(String name, BooleanSupplier probe) {
    return add(name, () -> Mono.fromSupplier(probe::getAsBoolean));
  }

  /**
   * Adds the checks {@code other} has now, each named {@code prefix + name}: one {@code /ready}
   * for several roles of a process ({@code worker.consumer}, {@code tools.redis}, …).
   */
  public Readiness addAll(String prefix, Readiness other) {
    other.checks.forEach(c -> checks.add(new Check(prefix + c.name(), c.probe())));
    return this;
  }

  public Mono<Report> check() {
    return Flux.fromIterable(checks)
        .concatMap(c -> Mono.defer(c.probe())
            .timeout(timeout)
            .onErrorReturn(false)
            .defaultIfEmpty(false)
            .map(ok -> Map.entry(c.name(), ok)))
        .collectList()
        .map(list -> {
          Map<String, Boolean> m = new LinkedHashMap<>();
          list.forEach(e -> m.put(e.getKey(), e.getValue()));
          return new Report(m.values().stream().allMatch(Boolean::booleanValue), m);
        });
  }
}
