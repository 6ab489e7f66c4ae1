package io.sgstreams.launcher.failure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;

/**
 * Issue 8, failure 2 ("a capped stream silently drops work the gateway accepted"): the gateway
 * runs with {@code SG_STREAM_MAXLEN=1000}, rate limit off and no worker at all, and gets 4,000
 * {@code POST /v1/messages}; then one {@code sg worker} process starts. In production this is a
 * worker outage (or a deploy) longer than the stream cap lasts: on main every POST gets 202, but
 * {@code XADD MAXLEN ~ 1000} trims the oldest entries before any worker read them, so ~3,000
 * accepted messages are never answered and nothing says so. Asserts each POST is answered either
 * 202 or 503 {@code {"error":{"code":"backlog_full"}}} with {@code Retry-After}, at least one was
 * refused (4,000 is well over the cap), and every 202'd message is answered over SSE once the
 * worker runs: never 202 for work that will be dropped.
 */
@Timeout(150)
class CappedBacklogTest {
  private static final int POSTS = 4_000;
  private static final int CAP = 1_000;
  private static final List<String> CHANNELS = IntStream.range(0, 16).mapToObj(i -> "cap" + i).toList();
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void theGatewayRefusesWhatTheCappedStreamWouldDropAndEveryAcceptedMessageIsAnswered() throws Exception {
    long started = System.nanoTime();
    try (ProcessRig rig = new ProcessRig("capped-backlog", TestRedis.url(), Duration.ofMillis(3000),
        Map.of("SG_STREAM_MAXLEN", Integer.toString(CAP)))) {
      try {
        run(rig);
        System.out.printf("CappedBacklogTest: took %d ms%n", SseReplies.since(started).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    assertEquals(CAP, rig.config().topology().maxLenFor(rig.inboundStream()), "the gateway's stream cap");
    SseReplies client = rig.startGateway(CHANNELS); // rate limit off
    int port = rig.gateway().port();
    RedisEventBus bus = rig.bus(Role.GATEWAY);

    // no worker runs yet: every POST either is accepted (and must be answered later) or refused up front
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    AtomicInteger backlogFull = new AtomicInteger();
    Map<String, AtomicInteger> unexpected = new ConcurrentHashMap<>(); // status / body / missing header -> count
    HttpClient http = HttpClient.create().responseTimeout(Duration.ofSeconds(30))
        .headers(h -> h.set("Content-Type", "application/json"));
    Flux.range(0, POSTS)
        .flatMap(i -> {
          String body = "{\"channel_id\":\"" + CHANNELS.get(i % CHANNELS.size()) + "\",\"user_id\":\"u\",\"content\":\"m" + i + "\"}";
          return http.post().uri("http://127.0.0.1:" + port + "/v1/messages")
              .send(ByteBufFlux.fromString(Mono.just(body)))
              .responseSingle((resp, content) -> content.asString().defaultIfEmpty("").map(b -> {
                int status = resp.status().code();
                if (status == 202) {
                  accepted.add(json(b).path("id").asText());
                } else if (status == 503 && "backlog_full".equals(json(b).path("error").path("code").asText())) {
                  if (resp.responseHeaders().get("Retry-After") == null) {
                    count(unexpected, "503 backlog_full without Retry-After");
                  } else {
                    backlogFull.incrementAndGet();
                  }
                } else {
                  count(unexpected, "HTTP " + status + " " + (b.length() > 120 ? b.substring(0, 120) : b));
                }
                return status;
              }))
              .onErrorResume(e -> {
                count(unexpected, e.getClass().getSimpleName() + ": " + e.getMessage());
                return Mono.empty();
              });
        }, 32)
        .then().block(Duration.ofSeconds(90));
    long inboundLen = Streams.length(bus, rig.inboundStream());
    System.out.printf("CappedBacklogTest: %d POSTs with no worker: %d x 202, %d x 503 backlog_full, other %s; inbound XLEN %d (cap %d)%n",
        POSTS, accepted.size(), backlogFull.get(), unexpected, inboundLen, CAP);
    assertEquals(Map.of(), snapshot(unexpected), "answers other than 202 and 503 backlog_full + Retry-After");
    assertTrue(!accepted.isEmpty(), "some messages were accepted (else nothing is tested past the refusal)");

    NodeProcess worker = rig.startWorker("cap", "echo", Map.of());
    long workerReady = System.nanoTime();
    int answered = awaitAnsweredOrSettled(client, accepted, bus, rig);
    List<String> neverAnswered = accepted.stream().filter(id -> client.count(id) == 0).limit(10).toList();
    String summary = String.format("%d POSTs: %d x 202, %d x 503 backlog_full; %d of the %d accepted answered (%d never answered,"
            + " e.g. %s) %d s after the worker started; inbound XLEN %d, cap %d, group pending %d",
        POSTS, accepted.size(), backlogFull.get(), answered, accepted.size(), accepted.size() - answered, neverAnswered,
        SseReplies.since(workerReady).toSeconds(), Streams.length(bus, rig.inboundStream()), CAP,
        Streams.pending(bus, rig.inboundStream(), rig.workerGroup()));
    System.out.println("CappedBacklogTest: " + summary);

    assertEquals(accepted.size(), answered, "every 202'd message is answered: " + summary);
    assertTrue(backlogFull.get() > 0, "4,000 POSTs over a cap of 1,000 with no worker: some must be refused with 503 backlog_full: " + summary);
    assertEquals(List.of(), client.problems(), "SSE errors");
    assertTrue(worker.isAlive(), "the worker is still running");
  }

  /**
   * Waits until every accepted message is answered, or (to fail in seconds rather than at the
   * timeout) until the worker has nothing left to do and the count has not moved for 10 s: group
   * pending 0, lag 0 or unknown. Returns how many accepted messages are answered.
   */
  private static int awaitAnsweredOrSettled(SseReplies client, Set<String> accepted, RedisEventBus bus, ProcessRig rig)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int last = -1;
    long lastChange = System.nanoTime();
    while (true) {
      int answered = (int) accepted.stream().filter(id -> client.count(id) > 0).count();
      if (answered == accepted.size() || System.nanoTime() > deadline) {
        return answered;
      }
      if (answered != last) {
        last = answered;
        lastChange = System.nanoTime();
      } else if (SseReplies.since(lastChange).toSeconds() >= 10 && workerIdle(bus, rig)) {
        return answered;
      }
      Thread.sleep(200);
    }
  }

  private static boolean workerIdle(RedisEventBus bus, ProcessRig rig) {
    try {
      OptionalLong lag = bus.groupLag(rig.inboundStream(), rig.workerGroup()).block(Duration.ofSeconds(5));
      return Streams.pending(bus, rig.inboundStream(), rig.workerGroup()) == 0 && (lag == null || lag.orElse(0) == 0);
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (Exception e) {
      return JSON.createObjectNode().put("unparsable", body);
    }
  }

  private static void count(Map<String, AtomicInteger> m, String key) {
    m.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
  }

  private static Map<String, Integer> snapshot(Map<String, AtomicInteger> m) {
    Map<String, Integer> out = new TreeMap<>();
    m.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }
}
