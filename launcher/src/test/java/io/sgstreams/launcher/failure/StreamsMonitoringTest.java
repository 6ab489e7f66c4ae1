package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import io.sgstreams.launcher.Sg;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Flux;

/**
 * What an operator watching the streams sees when the only worker is stopped under traffic: {@code
 * GET /v1/streams} (ops key required), {@code sg streams --json} and the gateway's {@code /metrics}
 * show the worker group's lag rising and its pending entries held, and all fall back to 0 once the
 * worker runs again. Separate {@code sg gateway} and {@code sg worker} processes; the worker SIGKILLed.
 */
@Timeout(240)
class StreamsMonitoringTest {
  private static final String OPS_KEY = "ops-" + Long.toHexString(System.nanoTime());
  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void lagAndPendingRiseWhileTheWorkerIsStoppedAndFallToZeroWhenItRunsAgain() throws Exception {
    try (ProcessRig rig = new ProcessRig("streams-monitoring", TestRedis.url(), Duration.ofMillis(2000),
        Map.of("SG_OPS_KEYS", "other-key," + OPS_KEY))) {
      try {
        run(rig);
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    }
  }

  private void run(ProcessRig rig) throws Exception {
    Map<String, String> slow = Map.of(DelayedEchoHandlerFactory.DELAY_ENV, "300");
    NodeProcess gw = rig.spawnGateway("m1", Map.of());
    NodeProcess w1 = rig.spawnWorker("w1", "delayed-echo", slow);
    ProcessRig.awaitReady(List.of(gw, w1));
    String api = "http://127.0.0.1:" + gw.adminPort();
    String in = rig.inboundStream();
    String group = rig.workerGroup();
    RedisEventBus bus = rig.bus(Role.GATEWAY);

    // the ops key guards the API (and only the ops key)
    assertEquals(401, get(api + "/v1/streams", null).statusCode());
    HttpResponse<String> wrong = get(api + "/v1/streams", "not-a-key");
    assertEquals(401, wrong.statusCode());
    assertEquals("invalid_ops_key", Json.readTree(wrong.body()).get("error").get("code").asText());
    assertEquals(404, get(api + "/v1/streams/nope", OPS_KEY).statusCode());

    publish(bus, 100, "warm");
    await("warm-up handled").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
        .until(() -> lag(api, in, group) == 0 && pending(api, in, group) == 0);
    JsonNode all = Json.readTree(get(api + "/v1/streams", OPS_KEY).body());
    assertTrue(all.get("streams").size() >= 4, all.toString());
    JsonNode workers = groupOf(Json.readTree(get(api + "/v1/streams/" + in, OPS_KEY).body()), group);
    assertEquals("work", workers.get("role").asText());
    assertEquals("worker-w1", workers.get("consumers").get(0).get("name").asText());
    assertTrue(workers.get("consumers").get(0).get("alive").asBoolean(), workers.toString());

    // the worker stopped (SIGKILL) while it holds entries, traffic goes on: lag rises, pending is held
    publish(bus, 200, "before-kill");
    await("entries in flight").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> pending(api, in, group) > 0);
    w1.kill();
    publish(bus, 300, "stopped-1");
    long lag1 = await("lag visible").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> lag(api, in, group), l -> l > 0);
    publish(bus, 300, "stopped-2");
    long lag2 = await("lag rising").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
        .until(() -> lag(api, in, group), l -> l > lag1);
    long heldPending = pending(api, in, group);
    assertTrue(heldPending > 0, "the stopped worker's entries stay pending");
    JsonNode dead = groupOf(Json.readTree(get(api + "/v1/streams/" + in, OPS_KEY).body()), group);
    assertTrue(dead.get("oldest_pending_seconds").asDouble() > 0, dead.toString());
    assertTrue(dead.get("deliveries").get("1").asLong() > 0, dead.toString());
    await("the dead worker's heartbeat expires").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300))
        .until(() -> !groupOf(Json.readTree(get(api + "/v1/streams/" + in, OPS_KEY).body()), group)
            .get("consumers").get(0).get("alive").asBoolean());
    // sg streams and /metrics show the same
    JsonNode cli = groupOf(streamOf(sgStreamsJson(rig), in), group);
    assertTrue(cli.get("lag").asLong() >= lag2, cli.toString());
    assertTrue(cli.get("pending").asLong() > 0, cli.toString());
    await("metrics show the lag").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
        .until(() -> metric(api, "sg_stream_lag", in, group) >= lag2 && metric(api, "sg_stream_pending", in, group) > 0);
    System.out.printf("StreamsMonitoringTest: worker stopped: lag %d -> %d, pending %d%n", lag1, lag2, heldPending);

    // the worker runs again: everything handled, all figures back to 0
    NodeProcess again = rig.spawnWorker("w1", "delayed-echo", Map.of(DelayedEchoHandlerFactory.DELAY_ENV, "1"));
    ProcessRig.awaitReady(List.of(again));
    await("lag and pending back to 0").atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
        .until(() -> lag(api, in, group) == 0 && pending(api, in, group) == 0);
    JsonNode after = groupOf(streamOf(sgStreamsJson(rig), in), group);
    assertEquals(0, after.get("lag").asLong(), after.toString());
    assertEquals(0, after.get("pending").asLong(), after.toString());
    await("metrics back to 0").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
        .until(() -> metric(api, "sg_stream_lag", in, group) == 0 && metric(api, "sg_stream_pending", in, group) == 0);
    // the table form prints the group with its live consumer
    String table = sgStreams(rig, "streams");
    assertTrue(table.contains(group) && table.contains("worker-w1 (0, ") && table.contains("alive"), table);
  }

  private static void publish(RedisEventBus bus, int n, String tag) {
    Flux.range(0, n)
        .flatMap(i -> bus.publishInbound(InboundEnvelope.create("web", "c" + (i % 32), "u", tag + " " + i)), 32)
        .then().block(Duration.ofSeconds(60));
  }

  private HttpResponse<String> get(String url, String key) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private long lag(String api, String stream, String group) throws Exception {
    JsonNode g = groupOf(Json.readTree(get(api + "/v1/streams/" + stream, OPS_KEY).body()), group);
    assertTrue(g.get("lag_known").asBoolean(), "lag known: " + g);
    return g.get("lag").asLong();
  }

  private long pending(String api, String stream, String group) throws Exception {
    return groupOf(Json.readTree(get(api + "/v1/streams/" + stream, OPS_KEY).body()), group).get("pending").asLong();
  }

  private double metric(String api, String name, String stream, String group) throws Exception {
    String body = get(api + "/metrics", null).body();
    Pattern p = Pattern.compile("^" + name + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
    Matcher m = p.matcher(body);
    while (m.find()) {
      String labels = m.group(1);
      if (labels.contains("stream=\"" + stream + "\"") && labels.contains("group=\"" + group + "\"")) {
        return Double.parseDouble(m.group(2));
      }
    }
    return Double.NaN;
  }

  private static JsonNode streamOf(JsonNode all, String stream) {
    for (JsonNode s : all.get("streams")) {
      if (s.get("name").asText().equals(stream)) {
        return s;
      }
    }
    throw new AssertionError("no " + stream + " in " + all);
  }

  private static JsonNode groupOf(JsonNode stream, String group) {
    for (JsonNode g : stream.get("groups")) {
      if (g.get("name").asText().equals(group)) {
        return g;
      }
    }
    throw new AssertionError("no group " + group + " in " + stream);
  }

  private static JsonNode sgStreamsJson(ProcessRig rig) throws Exception {
    return Json.readTree(sgStreams(rig, "streams", "--json").trim());
  }

  private static String sgStreams(ProcessRig rig, String... args) {
    Map<String, String> env = new HashMap<>(rig.env());
    env.put("SG_NODE_ID", "ops-cli");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
    return out.toString(StandardCharsets.UTF_8);
  }
}
