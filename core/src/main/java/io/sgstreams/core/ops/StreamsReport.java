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
 *
 * <p>With partitions ({@code P > 1}, {@code SG_PARTITIONS}) every partition of the inbound stream, of each
 * platform's outbound stream and of the DLQ is a row of its own with {@code "partition": i} ({@code null} on the
 * streams without partitions: tools, tool replies), and {@link #all()} adds {@code "totals"}: one entry per logical
 * stream ({@link #totals}) summing its partitions. {@link #named} accepts a logical name (the configured one,
 * e.g. {@code sg:stream:inbound}) and answers its totals and its partitions' rows. With {@code P = 1} neither the
 * {@code partition} field nor {@code totals} appears: the report is unchanged.
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

  /**
   * Every stream's report: {@code {"streams":[…], "taken_at":…}}, plus {@code "totals":[…]} (one per logical
   * stream, {@link #totals}) when the streams are partitioned.
   */
  public Mono<ObjectNode> all() {
    // XADD calls per master so far: how evenly the partitions spread the writes (one entry on a single Redis)
    Mono<java.util.Map<String, Long>> shards = bus.commandCallsPerShard("xadd")
        .onErrorResume(e -> Mono.just(java.util.Map.of()));
    return streamNames()
        .flatMapMany(names -> Flux.fromIterable(names).concatMap(this::stream))
        .collectList()
        .zipWith(shards)
        .map(both -> {
          List<ObjectNode> list = both.getT1();
          ObjectNode root = Json.object();
          root.put("taken_at", java.time.Instant.now().toString());
          ArrayNode arr = root.putArray("streams");
          list.forEach(arr::add);
          ArrayNode shardRows = root.putArray("shards");
          both.getT2().forEach((shard, calls) -> shardRows.addObject().put("shard", shard).put("xadd_calls", calls));
          if (topology.partitioned()) {
            ArrayNode totals = root.putArray("totals");
            for (String logical : logicalStreams()) {
              totals.add(totals(logical, list));
            }
          }
          return root;
        });
  }

  /**
   * One stream's report, or empty when {@code name} is neither configured nor an existing reply stream. With
   * partitions, a logical name ({@link #logicalStreams()}: the configured inbound, outbound or DLQ name) answers
   * {@code {"name":…, "kind":…, "logical":true, "partitions":P, "totals":{…}, "streams":[every partition's row]}}.
   */
  public Mono<ObjectNode> named(String name) {
    if (topology.partitioned() && logicalStreams().contains(name)) {
      List<String> keys = partitionsOf(name);
      return Flux.fromIterable(keys).concatMap(this::stream).collectList().map(rows -> {
        ObjectNode root = Json.object();
        root.put("taken_at", java.time.Instant.now().toString());
        root.put("name", name);
        root.put("kind", logicalKind(name));
        root.put("logical", true);
        root.put("partitions", keys.size());
        root.set("totals", totals(name, rows));
        ArrayNode arr = root.putArray("streams");
        rows.forEach(arr::add);
        return root;
      });
    }
    return streamNames().flatMap(names -> names.contains(name) ? stream(name) : Mono.empty());
  }

  /**
   * The logical streams that have partitions, by their configured names: the inbound stream, each platform's
   * outbound stream, the DLQ. With {@code P > 1} these names are not keys: {@link #partitionsOf} gives the keys.
   */
  public List<String> logicalStreams() {
    List<String> out = new ArrayList<>();
    out.add(topology.inboundStream());
    topology.platforms().forEach(p -> out.add(topology.outboundStream(p)));
    out.add(topology.dlqStream());
    return out;
  }

  /** The partition keys of a logical stream ({@link #logicalStreams()}), partition 0 first. */
  public List<String> partitionsOf(String logical) {
    if (logical.equals(topology.inboundStream())) {
      return topology.inboundStreams();
    }
    if (logical.equals(topology.dlqStream())) {
      return topology.dlqStreams();
    }
    for (String p : topology.platforms()) {
      if (logical.equals(topology.outboundStream(p))) {
        return topology.outboundStreams(p);
      }
    }
    throw new IllegalArgumentException("not a logical stream of this topology: " + logical);
  }

  /** The logical stream a stream key belongs to (its configured name); null for the streams without partitions. */
  public String logicalOf(String stream) {
    if (topology.isInbound(stream)) {
      return topology.inboundStream();
    }
    if (topology.isDlq(stream)) {
      return topology.dlqStream();
    }
    for (String p : topology.platforms()) {
      if (topology.isOutbound(p, stream)) {
        return topology.outboundStream(p);
      }
    }
    return null;
  }

  /** {@code inbound}, {@code outbound:<platform>} or {@code dlq}: how the totals name a logical stream. */
  private String logicalKind(String logical) {
    if (logical.equals(topology.inboundStream())) {
      return "inbound";
    }
    if (logical.equals(topology.dlqStream())) {
      return "dlq";
    }
    for (String p : topology.platforms()) {
      if (logical.equals(topology.outboundStream(p))) {
        return "outbound:" + p;
      }
    }
    return "unknown";
  }

  /**
   * The totals of one logical stream over the rows of its partitions (rows of other streams are ignored):
   * <pre>{@code
   * {"name":"sg:stream:inbound","kind":"inbound","partitions":4,"partitions_existing":4,"length":40,
   *  "backlog":12,"min_headroom":99990,"cap_per_partition":100000,
   *  "groups":[{"name":"sg:workers","partitions":4,"pending":3,"lag":9,"lag_known":true,
   *             "oldest_pending_seconds":0.4,"consumers":2,"overtaken":false}]}
   * }</pre>
   * Sums: length, backlog (null when no partition has one: a tailed stream), per group pending and lag. A
   * group's lag is {@code null} with {@code lag_known:false} when any partition's lag of it is unknown (never a
   * sum that reads as 0 or as too small); {@code oldest_pending_seconds} is the largest of its partitions';
   * {@code consumers} counts distinct consumer names; {@code partitions} how many partitions have the group.
   */
  public ObjectNode totals(String logical, List<? extends com.fasterxml.jackson.databind.JsonNode> rows) {
    List<String> keys = partitionsOf(logical);
    ObjectNode t = Json.object();
    t.put("name", logical);
    t.put("kind", logicalKind(logical));
    t.put("partitions", keys.size());
    long length = 0;
    long backlog = 0;
    boolean anyBacklog = false;
    Long minHeadroom = null;
    int existing = 0;
    Map<String, ObjectNode> groups = new LinkedHashMap<>();
    Map<String, java.util.Set<String>> consumers = new LinkedHashMap<>();
    for (com.fasterxml.jackson.databind.JsonNode r : rows) {
      if (!keys.contains(r.path("name").asText())) {
        continue;
      }
      if (r.path("exists").asBoolean()) {
        existing++;
      }
      length += r.path("length").asLong();
      if (r.path("backlog").isNumber()) {
        anyBacklog = true;
        backlog += r.path("backlog").asLong();
      }
      if (r.path("headroom").isNumber()) {
        long h = r.path("headroom").asLong();
        minHeadroom = minHeadroom == null ? h : Math.min(minHeadroom, h);
      }
      t.put("cap_per_partition", r.path("cap").asLong());
      for (com.fasterxml.jackson.databind.JsonNode g : r.path("groups")) {
        String name = g.path("name").asText();
        ObjectNode gt = groups.computeIfAbsent(name, n -> {
          ObjectNode x = Json.object();
          x.put("name", n);
          x.put("role", g.path("role").asText());
          x.put("partitions", 0);
          x.put("pending", 0L);
          x.put("lag", 0L);
          x.put("lag_known", true);
          x.putNull("oldest_pending_seconds");
          x.put("overtaken", false);
          return x;
        });
        gt.put("partitions", gt.get("partitions").asInt() + 1);
        gt.put("pending", gt.get("pending").asLong() + g.path("pending").asLong());
        if (gt.get("lag_known").asBoolean() && g.path("lag_known").asBoolean() && g.path("lag").isNumber()) {
          gt.put("lag", gt.get("lag").asLong() + g.path("lag").asLong());
        } else {
          gt.putNull("lag");
          gt.put("lag_known", false);
        }
        if (g.path("oldest_pending_seconds").isNumber()) {
          double age = g.path("oldest_pending_seconds").asDouble();
          if (gt.get("oldest_pending_seconds").isNull() || gt.get("oldest_pending_seconds").asDouble() < age) {
            gt.put("oldest_pending_seconds", age);
          }
        }
        if (g.path("overtaken").asBoolean()) {
          gt.put("overtaken", true);
        }
        java.util.Set<String> cs = consumers.computeIfAbsent(name, n -> new java.util.TreeSet<>());
        g.path("consumers").forEach(c -> cs.add(c.path("name").asText()));
      }
    }
    t.put("partitions_existing", existing);
    t.put("length", length);
    if (anyBacklog) {
      t.put("backlog", backlog);
    } else {
      t.putNull("backlog");
    }
    if (minHeadroom == null) {
      t.putNull("min_headroom");
    } else {
      t.put("min_headroom", minHeadroom);
    }
    if (!t.has("cap_per_partition")) {
      t.put("cap_per_partition", topology.maxLenFor(keys.get(0)));
    }
    ArrayNode arr = t.putArray("groups");
    groups.forEach((name, g) -> {
      g.put("consumers", consumers.getOrDefault(name, java.util.Set.of()).size());
      arr.add(g);
    });
    return t;
  }

  /** The kind of a stream of this topology (any partition): inbound, outbound, tools, tools_reply, dlq. */
  public String kind(String stream) {
    if (topology.isInbound(stream)) {
      return "inbound";
    }
    if (stream.equals(topology.toolsStream())) {
      return "tools";
    }
    if (topology.isDlq(stream)) {
      return "dlq";
    }
    for (String p : topology.platforms()) {
      if (topology.isOutbound(p, stream)) {
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
      if (topology.partitioned()) {
        String logical = logicalOf(stream);
        if (logical == null) {
          n.putNull("partition");
          n.putNull("logical_stream");
        } else {
          n.put("partition", topology.partitionOfStream(stream));
          n.put("logical_stream", logical);
        }
      }
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
