package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * Issue 8, failure 3 ("a long handler is handled twice"): two {@code sg worker} processes with the
 * {@code openai} handler talk to a fake OpenAI-compatible server in this JVM that takes 6 s for
 * every chat completion; {@code claim_min_idle} is 2 s, the handler timeout 30 s (well above the
 * model's 6 s, as in production where {@code SG_HANDLER_TIMEOUT_MS} defaults to 120 s over a 60 s
 * claim threshold), the model client's retries are the defaults. Ten prompts arrive one a second,
 * each on its own channel. In production this is any LLM call slower than {@code claim_min_idle}:
 * nothing renews an entry's idle time while its handler runs, so the other worker claims it and
 * sends the same prompt to the model again (paid twice, answered twice). Asserts every prompt is
 * answered and reached the model exactly once (counted per prompt text at the fake server, after
 * the group has nothing pending and no model call is in flight).
 */
@Timeout(150)
class SlowModelTest {
  private static final int PROMPTS = 10;
  private static final Duration MODEL_TIME = Duration.ofSeconds(6);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, AtomicInteger> callsPerPrompt = new ConcurrentHashMap<>();
  private final AtomicInteger inFlightCalls = new AtomicInteger();

  @Test
  void aModelSlowerThanClaimMinIdleIsCalledOncePerPrompt() throws Exception {
    long started = System.nanoTime();
    DisposableServer model = fakeModel();
    try (ProcessRig rig = new ProcessRig("slow-model", TestRedis.url(), Duration.ofMillis(2000),
        Map.of("SG_CLAIM_INTERVAL_MS", "500", "SG_READ_BLOCK_MS", "2000"))) {
      try {
        run(rig, model.port());
        System.out.printf("SlowModelTest: took %d ms%n", SseReplies.since(started).toMillis());
      } catch (Throwable t) {
        rig.dumpLogs();
        throw t;
      }
    } finally {
      model.disposeNow();
    }
  }

  private void run(ProcessRig rig, int modelPort) throws Exception {
    Map<String, String> openai = Map.of(
        "OPENAI_BASE_URL", "http://127.0.0.1:" + modelPort + "/v1",
        "OPENAI_MODEL", "fake-slow-model",
        "SG_HANDLER_TIMEOUT_MS", "30000");
    NodeProcess m1 = rig.spawnWorker("m1", "openai", openai);
    NodeProcess m2 = rig.spawnWorker("m2", "openai", openai);
    ProcessRig.awaitReady(List.of(m1, m2));
    RedisEventBus bus = rig.bus(Role.GATEWAY);

    Map<String, String> promptById = new LinkedHashMap<>();
    for (int i = 0; i < PROMPTS; i++) {
      InboundEnvelope in = InboundEnvelope.create("web", "slow" + i, "u" + i, "p" + i);
      bus.publishInbound(in).block(Duration.ofSeconds(10));
      promptById.put(in.id(), in.content());
      Thread.sleep(1000); // a trickle of prompts, so handlers finish (and free slots) while others still run
    }

    try {
      await("every prompt answered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> ProcessRig.outboundCounts(bus, rig.outboundStream()).keySet().containsAll(promptById.keySet()));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("answered " + ProcessRig.outboundCounts(bus, rig.outboundStream()).keySet().size() + "/" + PROMPTS
          + "; model calls per prompt " + calls(), e);
    }
    // settled: nothing pending, no model call running (a claimed duplicate would be one of them)
    await("group pending 0 and no model call in flight").during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> Streams.pending(bus, rig.inboundStream(), rig.workerGroup()) == 0 && inFlightCalls.get() == 0);

    Map<String, Integer> calls = calls();
    Map<String, Integer> replies = repliesPerPrompt(bus, rig, promptById);
    System.out.printf("SlowModelTest: model calls per prompt %s; replies per prompt %s%n", calls, replies);
    for (String prompt : promptById.values()) {
      assertEquals(1, calls.getOrDefault(prompt, 0),
          "prompt " + prompt + " reached the model " + calls.getOrDefault(prompt, 0) + " times (all: " + calls + "; replies " + replies + ")");
    }
    for (Map.Entry<String, Integer> r : replies.entrySet()) {
      assertEquals(1, r.getValue(), "prompt " + r.getKey() + " was answered " + r.getValue() + " times");
    }
    replies.keySet().forEach(p -> assertTrue(promptById.containsValue(p)));
    assertTrue(m1.isAlive() && m2.isAlive(), "both workers still running");
  }

  /** POST /v1/chat/completions: counts the prompt (the last user message), answers after 6 s, never blocks a thread. */
  private DisposableServer fakeModel() {
    return HttpServer.create().host("127.0.0.1").port(0).route(r -> r
        .post("/v1/chat/completions", (req, res) -> req.receive().aggregate().asString().flatMap(body -> {
          String prompt = lastUserMessage(body);
          callsPerPrompt.computeIfAbsent(prompt, k -> new AtomicInteger()).incrementAndGet();
          inFlightCalls.incrementAndGet();
          return Mono.delay(MODEL_TIME)
              .then(res.header("Content-Type", "application/json").sendString(Mono.just(answer("answer to " + prompt))).then())
              .doFinally(s -> inFlightCalls.decrementAndGet());
        })))
        .bindNow();
  }

  private Map<String, Integer> calls() {
    Map<String, Integer> out = new TreeMap<>();
    callsPerPrompt.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  private static Map<String, Integer> repliesPerPrompt(RedisEventBus bus, ProcessRig rig, Map<String, String> promptById) {
    Map<String, Integer> out = new TreeMap<>();
    for (StreamMessage<String, byte[]> m : Streams.all(bus, rig.outboundStream())) {
      if (bus.codec().decode(m.getBody().get("data")) instanceof OutboundEnvelope o && !o.isProgress()) {
        out.merge(promptById.getOrDefault(o.inReplyTo(), "unknown:" + o.inReplyTo()), 1, Integer::sum);
      }
    }
    return out;
  }

  private static String lastUserMessage(String body) {
    try {
      String prompt = "?";
      for (JsonNode m : JSON.readTree(body).path("messages")) {
        if ("user".equals(m.path("role").asText())) {
          prompt = m.path("content").asText();
        }
      }
      return prompt;
    } catch (Exception e) {
      return "unparsable";
    }
  }

  private static String answer(String content) {
    return JSON.createObjectNode().set("choices", JSON.createArrayNode().add(JSON.createObjectNode()
        .put("index", 0).put("finish_reason", "stop")
        .set("message", JSON.createObjectNode().put("role", "assistant").put("content", content)))).toString();
  }
}
