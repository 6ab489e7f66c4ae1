package io.sgstreams.launcher.failure;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The client side of the failure tests: one Server-Sent-Events subscription per channel on the
 * gateway, counting every reply delivered to the client by its {@code in_reply_to}. This is what
 * the client sees after the gateway's fan-out and duplicate suppression, so "exactly one reply per
 * request" is measured here. Each subscription is read on a daemon thread of its own (test side,
 * not an event loop).
 */
final class SseReplies implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final Map<String, Long> firstArrivalNanos = new ConcurrentHashMap<>();
  private final AtomicLong events = new AtomicLong();
  private final List<String> problems = new CopyOnWriteArrayList<>();
  private final List<Stream<String>> open = new CopyOnWriteArrayList<>();

  /** Subscribes to {@code /v1/channels/{channel}/events} for each channel; returns once every one is live. */
  static SseReplies subscribe(int gatewayPort, List<String> channels) throws InterruptedException {
    SseReplies r = new SseReplies();
    CountDownLatch connected = new CountDownLatch(channels.size());
    for (String ch : channels) {
      HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + "/v1/channels/" + ch + "/events"))
          .header("Accept", "text/event-stream").GET().build();
      HTTP.sendAsync(req, HttpResponse.BodyHandlers.ofLines()).whenComplete((resp, err) -> {
        if (err != null) {
          r.problems.add(ch + ": " + err);
          return;
        }
        if (resp.statusCode() != 200) {
          r.problems.add(ch + ": HTTP " + resp.statusCode());
          return;
        }
        r.open.add(resp.body());
        Thread t = new Thread(() -> r.read(ch, resp.body(), connected), "sse-" + ch);
        t.setDaemon(true);
        t.start();
      });
    }
    if (!connected.await(20, TimeUnit.SECONDS)) {
      throw new IllegalStateException("SSE subscriptions not live after 20 s: " + r.problems);
    }
    return r;
  }

  private void read(String channel, Stream<String> lines, CountDownLatch connected) {
    try {
      String event = "message";
      for (var it = lines.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (line.startsWith(": connected")) {
          connected.countDown();
        } else if (line.startsWith("event: ")) {
          event = line.substring(7).trim();
        } else if (line.startsWith("data: ")) {
          if (event.equals("message")) {
            JsonNode reply = JSON.readTree(line.substring(6));
            String inReplyTo = reply.path("in_reply_to").asText();
            counts.computeIfAbsent(inReplyTo, k -> new AtomicInteger()).incrementAndGet();
            firstArrivalNanos.putIfAbsent(inReplyTo, System.nanoTime());
            events.incrementAndGet();
          } else {
            problems.add(channel + ": event " + event + " " + line);
          }
        } else if (line.isEmpty()) {
          event = "message";
        }
      }
    } catch (Exception e) {
      problems.add(channel + ": " + e);
    }
  }

  /** Replies delivered so far for this inbound id. */
  int count(String inboundId) {
    AtomicInteger c = counts.get(inboundId);
    return c == null ? 0 : c.get();
  }

  /** Distinct inbound ids answered. */
  int answered() {
    return counts.size();
  }

  /** Every reply event received (duplicates included). */
  long events() {
    return events.get();
  }

  /** When the first reply to this id arrived (System.nanoTime), or null. */
  Long firstArrival(String inboundId) {
    return firstArrivalNanos.get(inboundId);
  }

  /** The earliest arrival at or after {@code nanos}, or null. */
  Long firstArrivalAfter(long nanos) {
    return firstArrivalNanos.values().stream().filter(t -> t >= nanos).min(Long::compare).orElse(null);
  }

  /** SSE errors, resets, failed subscriptions: should stay empty. */
  List<String> problems() {
    return problems;
  }

  Map<String, AtomicInteger> counts() {
    return counts;
  }

  @Override
  public void close() {
    open.forEach(Stream::close);
  }

  static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }
}
