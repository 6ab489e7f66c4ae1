package io.sgstreams.core.ops;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.GroupInfo;
import io.sgstreams.core.bus.PendingEntry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.bus.StreamInfo;
import io.sgstreams.core.bus.TrimPlan;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.metrics.StreamMonitor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What the monitoring API ({@code GET /v1/streams}), {@code sg streams} and the ops page show of the
 * streams: every configured stream (inbound, each platform's outbound, tools, the tools reply streams
 * in use, the DLQ) with its length, first and last id, cap and backlog headroom, and per consumer
 * group its consumers (pending, idle, alive by heartbeat), pending count, lag (Redis's own {@code
 * XINFO GROUPS} lag; {@code null} with {@code lag_known: false} when Redis cannot tell, never 0),
 * the age of its oldest pending entry and how many times its oldest pending entries were delivered.
 * Everything is read from Redis, so every gateway shows the same picture.
 *
 * <p>JSON shape of one stream:
 * <pre>{@code
 * {"name":"sg:stream:inbound","kind":"inbound","exists":true,"length":12,"first_id":"…","last_id":"…",
 *  "cap":100000,"backlog":12,"headroom":99988,
 *  "groups":[{"name":"sg:workers","role":"work","consumers":[{"name":"worker-a","pending":3,"idle_ms":120,"alive":true}],
 *             "pending":3,"lag":9,"lag_known":true,"oldest_pending_seconds":0.4,"last_delivered_id":"…",
 *             "deliveries":{"1":3},"overtaken":false}]}
 * }</pre>
 */
public final class StreamsReport {
  /** Oldest pending entries read per group for the delivery-count distribution. */
  public static final int DELIVERY_SAMPLE = 1000;
  /** Reply streams listed at most. */
  static final int MAX_REPLY_STREAMS = 1000;

  private final RedisEventBus bus;
  private final Topology topology;

  public StreamsReport(RedisEventBus bus) {
    this.bus = bus;
    this.topology = bus.topology();
  }

  /** The configured streams and the tools reply streams that exist, in a stable order. */
  public Mono<List<String>> streamNames() {
    String replyPrefix = topology.toolsReplyStream("x");
    replyPrefix = replyPrefix.substring(0, replyPrefix.length() - 1);
    List<String> configured = topology.streams();
    return bus.scanStreams(replyPrefix, MAX_REPLY_STREAMS)
        .sort()
        .collectList()
        .map(replies -> {
          List<String> all = new ArrayList<>(configured);
          replies.stream().filter(r -> !all.contains(r)).forEach(all::add);
          return all;
        });
  }

  /** Every stream's report: {@code {"streams":[…], "taken_at":…}}. */
  public Mono<ObjectNode> all() {
    return streamNames()
        .flatMapMany(names -> Flux.fromIterable(names).concatMap(this::stream))
        .collectList()
        .map(list -> {
          ObjectNode root = Json.object();
          root.put("taken_at", java.time.Instant.now().toString());
          ArrayNode arr = root.putArray("streams");
          list.forEach(arr::add);
          return root;
        });
  }

  /** One stream's report, or empty when {@code name} is neither configured nor an existing reply stream. */
  public Mono<ObjectNode> named(String name) {
    return streamNames().flatMap(names -> names.contains(name) ? stream(name) : Mono.empty());
  }

  /** The kind of a stream of this topology: inbound, outbound, tools, tools_reply, dlq. */
  public String kind(String stream) {
    if (stream.equals(topology.inboundStream())) {
      return "inbound";
    }
    if (stream.equals(topology.toolsStream())) {
      return "tools";
    }
    if (stream.equals(topology.dlqStream())) {
      return "dlq";
    }
    for (String p : topology.platforms()) {
      if (stream.equals(topology.outboundStream(p))) {
        return "outbound";
      }
    }
    return "tools_reply";
  }

  Mono<ObjectNode> stream(String stream) {
    Mono<TrimPlan> plan = bus.retention(stream);
    Mono<Optional<StreamInfo>> info = bus.streamInfo(stream).map(Optional::of).onErrorResume(e -> Mono.just(Optional.empty()));
    return Mono.zip(plan, info).flatMap(t -> {
      TrimPlan p = t.getT1();
      ObjectNode n = Json.object();
      n.put("name", stream);
      n.put("kind", kind(stream));
      n.put("exists", p.state().exists());
      n.put("length", p.state().length());
      StreamInfo si = t.getT2().orElse(null);
      n.put("first_id", si == null ? null : si.firstEntryId());
      n.put("last_id", si == null ? null : si.lastGeneratedId());
      n.put("cap", topology.maxLenFor(stream));
      if (p.isWorkStream()) {
        n.put("backlog", p.backlog());
        n.put("headroom", p.headroom(0));
      } else {
        n.putNull("backlog");
        n.putNull("headroom"); // a capped (tailed) stream never refuses
      }
      return Flux.fromIterable(p.state().groups())
          .concatMap(g -> group(p, g))
          .collectList()
          .map(groups -> {
            ArrayNode arr = n.putArray("groups");
            groups.forEach(arr::add);
            return n;
          });
    });
  }

  private Mono<ObjectNode> group(TrimPlan p, GroupInfo g) {
    String stream = p.state().stream();
    Mono<ArrayNode> consumers = bus.consumers(stream, g.name())
        .flatMapMany(Flux::fromIterable)
        .concatMap(c -> bus.heartbeats().isAlive(c.name()).onErrorReturn(false).map(alive -> {
          ObjectNode cn = Json.object();
          cn.put("name", c.name());
          cn.put("pending", c.pending());
          cn.put("idle_ms", c.idleMillis());
          cn.put("alive", alive);
          return cn;
        }))
        .collectList()
        .map(list -> {
          ArrayNode a = Json.array();
          list.forEach(a::add);
          return a;
        });
    Mono<Map<String, Long>> deliveries = g.pending() == 0 ? Mono.just(Map.of())
        : bus.oldestPending(stream, g.name(), DELIVERY_SAMPLE).collectList().map(StreamsReport::distribution);
    return Mono.zip(consumers, deliveries).map(t -> {
      ObjectNode n = Json.object();
      n.put("name", g.name());
      n.put("role", p.policy().isWorkGroup(g.name()) ? "work" : "observer");
      n.set("consumers", t.getT1());
      n.put("pending", g.pending());
      OptionalLong lag = g.lag();
      if (lag.isPresent()) {
        n.put("lag", lag.getAsLong());
      } else {
        n.putNull("lag");
      }
      n.put("lag_known", lag.isPresent());
      OptionalLong age = p.state().oldestPendingAgeMillis(g);
      if (age.isPresent()) {
        n.put("oldest_pending_seconds", age.getAsLong() / 1000.0);
      } else {
        n.putNull("oldest_pending_seconds");
      }
      n.put("last_delivered_id", g.lastDeliveredId());
      ObjectNode d = n.putObject("deliveries");
      t.getT2().forEach(d::put);
      n.put("deliveries_sampled", Math.min(g.pending(), DELIVERY_SAMPLE));
      n.put("overtaken", p.overtaken().contains(g.name()) || StreamMonitor.atRisk(p, g.name()));
      return n;
    });
  }

  /** Delivery counts bucketed 1, 2, 3, 4-5, 6-10, 11+. */
  static Map<String, Long> distribution(List<PendingEntry> entries) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String b : List.of("1", "2", "3", "4-5", "6-10", "11+")) {
      out.put(b, 0L);
    }
    for (PendingEntry e : entries) {
      long d = e.deliveries();
      String b = d <= 1 ? "1" : d == 2 ? "2" : d == 3 ? "3" : d <= 5 ? "4-5" : d <= 10 ? "6-10" : "11+";
      out.merge(b, 1L, Long::sum);
    }
    return out;
  }
}
