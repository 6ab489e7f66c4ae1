package io.sgstreams.core.bus;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.redis.internal.RedisScript;
import io.sgstreams.core.redis.internal.RedisStreams;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One heartbeat key per live consumer name ({@code sg:heartbeat:<consumer>}, {@code SET NX PX
 * ttl}, renewed every third of the TTL), so two processes never consume under one name.
 *
 * <p>A starting process whose name is held waits up to one TTL (and a little more) for the holder
 * to expire (a killed pod restarting fast leaves a key that nobody renews), and refuses to start
 * with {@link ConsumerNameInUseException} only if the holder keeps renewing. A running process
 * that finds its key taken by another (it stalled past the TTL and a namesake started) is told
 * through {@link Heartbeat#whenLost()}. Ops tools and partition assignment read the same keys.
 */
public final class HeartbeatRegistry {
  private static final Logger log = LoggerFactory.getLogger(HeartbeatRegistry.class);

  /** KEYS[1] heartbeat; ARGV[1] instance, ARGV[2] ttl ms. 1 renewed, 2 re-taken after it lapsed, 0 held by another. */
  static final RedisScript RENEW = new RedisScript("heartbeat-renew", """
      local v = redis.call('GET', KEYS[1])
      if v == ARGV[1] then
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        return 1
      end
      if not v then
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return 2
      end
      return 0
      """, ScriptOutputType.INTEGER);

  /** KEYS[1] heartbeat; ARGV[1] instance. Deletes the key only if it is ours. */
  static final RedisScript RELEASE = new RedisScript("heartbeat-release", """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        return redis.call('DEL', KEYS[1])
      end
      return 0
      """, ScriptOutputType.INTEGER);

  private final RedisStreams redis;
  private final Topology topology;
  private final Duration ttl;
  private final String instance;
  private final Map<String, Heartbeat> held = new ConcurrentHashMap<>();

  public HeartbeatRegistry(RedisStreams redis, Topology topology, Duration ttl) {
    this.redis = redis;
    this.topology = topology;
    this.ttl = ttl;
    this.instance = ManagementFactory.getRuntimeMXBean().getName() + "/" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** This process's id in the heartbeat keys ({@code pid@host/random}). */
  public String instance() {
    return instance;
  }

  public Duration ttl() {
    return ttl;
  }

  /**
   * Takes {@code consumer}'s heartbeat for this process (the same name registered twice in one
   * process shares one heartbeat until both are closed). Waits up to about one TTL for a stale
   * holder; fails with {@link ConsumerNameInUseException} if the holder keeps renewing.
   */
  public Mono<Heartbeat> register(String consumer) {
    return Mono.defer(() -> {
      Heartbeat existing = held.get(consumer);
      if (existing != null && existing.retain()) {
        return Mono.just(existing);
      }
      String key = topology.heartbeatKey(consumer);
      long deadline = System.nanoTime() + ttl.toNanos() + ttl.toNanos() / 5 + Duration.ofMillis(200).toNanos();
      Duration step = Duration.ofMillis(Math.max(20, ttl.toMillis() / 10));
      return acquire(key, deadline, step, System.nanoTime(), null)
          .map(v -> {
            Heartbeat h = new Heartbeat(consumer, key);
            held.put(consumer, h);
            h.start();
            return h;
          });
    });
  }

  private Mono<Boolean> acquire(String key, long deadline, Duration step, long started, String lastHolder) {
    return Mono.fromCompletionStage(() -> redis.async().set(key, RedisScript.arg(instance), SetArgs.Builder.nx().px(ttl.toMillis())))
        .map("OK"::equals)
        .defaultIfEmpty(false)
        .flatMap(ok -> {
          if (ok) {
            if (lastHolder != null) {
              log.info("heartbeat {} was held by {}, which stopped renewing it; taken over", key, lastHolder);
            }
            return Mono.just(true);
          }
          return Mono.fromCompletionStage(() -> redis.async().get(key))
              .map(RedisScript::text)
              .defaultIfEmpty("")
              .flatMap(holder -> {
                if (System.nanoTime() > deadline) {
                  String consumer = key.substring(key.lastIndexOf(':') + 1);
                  return Mono.error(new ConsumerNameInUseException(consumer, holder.isEmpty() ? lastHolder : holder,
                      Duration.ofNanos(System.nanoTime() - started)));
                }
                if (lastHolder == null) {
                  log.warn("heartbeat {} is held by {}; waiting up to {} for it to expire (a process that just died) before refusing to start",
                      key, holder, ttl);
                }
                return Mono.delay(step).then(acquire(key, deadline, step, started, holder.isEmpty() ? lastHolder : holder));
              });
        });
  }

  /**
   * Whether some process holds {@code consumer}'s heartbeat right now (the key exists: it was renewed
   * within the TTL). What the monitoring API shows as a consumer's liveness.
   */
  public Mono<Boolean> isAlive(String consumer) {
    return Mono.fromCompletionStage(() -> redis.async().exists(topology.heartbeatKey(consumer))).map(n -> n > 0);
  }

  /** A held consumer name: renewed until closed. */
  public final class Heartbeat implements AutoCloseable {
    private final String consumer;
    private final String key;
    private final Sinks.Empty<Void> lost = Sinks.empty();
    private int refs = 1;
    private volatile Disposable renewal;
    private volatile boolean closed;

    private Heartbeat(String consumer, String key) {
      this.consumer = consumer;
      this.key = key;
    }

    public String consumer() {
      return consumer;
    }

    private synchronized boolean retain() {
      if (closed) {
        return false;
      }
      refs++;
      return true;
    }

    private void start() {
      Duration every = Duration.ofMillis(Math.max(10, ttl.toMillis() / 3));
      renewal = Flux.interval(every, every)
          .onBackpressureDrop()
          .concatMap(t -> RENEW.<Long>run(redis, new String[] {key}, RedisScript.arg(instance), RedisScript.arg(ttl.toMillis()))
              .onErrorResume(e -> {
                log.debug("renewing heartbeat {} failed: {}", key, e.toString());
                return Mono.empty();
              }))
          .subscribe(r -> {
            if (r == 2L) {
              log.warn("heartbeat {} had expired (this process stalled or lost Redis longer than {}); taken again", key, ttl);
            } else if (r == 0L) {
              log.error("heartbeat {} is now held by another process: this one stalled longer than {} and a process with the "
                  + "same consumer name started; it must stop consuming", key, ttl);
              lost.tryEmitEmpty();
              renewal.dispose();
            }
          });
    }

    /** Completes if another process took this consumer name while this one held it. */
    public Mono<Void> whenLost() {
      return lost.asMono();
    }

    /** Stops renewing and deletes the key if it is still ours (the last holder in this process); completes when done. */
    public Mono<Void> release() {
      return Mono.defer(() -> {
        synchronized (this) {
          if (closed || --refs > 0) {
            return Mono.<Void>empty();
          }
          closed = true;
        }
        held.remove(consumer, this);
        Disposable r = renewal;
        if (r != null) {
          r.dispose();
        }
        return RELEASE.<Long>run(redis, new String[] {key}, RedisScript.arg(instance))
            .timeout(Duration.ofSeconds(2))
            .onErrorResume(e -> Mono.empty())
            .then();
      });
    }

    /** {@link #release()} without waiting. */
    @Override
    public void close() {
      release().subscribe();
    }
  }
}
