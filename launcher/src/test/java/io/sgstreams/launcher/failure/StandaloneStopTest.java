package io.sgstreams.launcher.failure;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.testkit.EmbeddedRedis;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code sg standalone} (its own embedded Redis and PostgreSQL) gets SIGTERM while a slow handler
 * holds a message: the drain must finish that message — its answer published — before the embedded
 * servers stop. (As JVM shutdown hooks only, embedded-redis's own hook stopped Redis beside the drain:
 * the answer could not be published and the stop took 17 s of reconnects.)
 */
@Timeout(180)
class StandaloneStopTest {

  @Test
  void sigtermFinishesTheMessageInFlightBeforeTheEmbeddedServersStop() throws Exception {
    Path base = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "sg-standalone-stop-");
    Path redisDir = base.resolve("redis");
    int redisPort = ProcessRig.freePort();
    int http = ProcessRig.freePort();
    int admin = ProcessRig.freePort();
    NodeProcess sa = NodeProcess.start("standalone", "standalone-stop", Map.ofEntries(
        Map.entry("SG_NODE_ID", "stop"),
        Map.entry("SG_HTTP_PORT", Integer.toString(http)),
        Map.entry("SG_WORKER_ADMIN_PORT", Integer.toString(admin)),
        Map.entry("SG_EMBEDDED_REDIS_PORT", Integer.toString(redisPort)),
        Map.entry("SG_EMBEDDED_REDIS_DIR", redisDir.toString()),
        Map.entry("SG_EMBEDDED_POSTGRES_PORT", "0"),
        Map.entry("SG_EMBEDDED_POSTGRES_DIR", base.resolve("postgres").toString()),
        Map.entry("SG_WORKER_HANDLER", "delayed-echo"),
        Map.entry(DelayedEchoHandlerFactory.DELAY_ENV, "3000"),
        Map.entry("SG_RATE_LIMIT_PER_MINUTE", "0")), admin, base.resolve("logs"));
    try {
      ProcessRig.awaitReady(List.of(sa));
      HttpResponse<String> posted = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/v1/messages"))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"channel_id\":\"c1\",\"user_id\":\"u\",\"content\":\"in flight\"}"))
              .build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(202, posted.statusCode(), posted.body());
      String id = io.sgstreams.core.json.Json.readTree(posted.body()).get("id").asText();
      Thread.sleep(1000); // the handler holds it (3 s)
      Integer exit = sa.terminate(Duration.ofSeconds(60));
      assertNotNull(exit, "standalone exited after SIGTERM");
      String log = sa.logText();
      assertTrue(log.contains("stopping: draining in-flight work") && log.contains("\nstopped"), log);
      assertFalse(log.contains("Cannot reconnect"), "Redis stayed up through the drain:\n" + log);

      // the answer was published before Redis stopped (its append-only file has it)
      try (EmbeddedRedis redis = EmbeddedRedis.builder().preferredPort(redisPort).dataDir(redisDir)
          .persistence(EmbeddedRedis.Persistence.AOF_FSYNC_EVERYSEC).start()) {
        RedisClient client = RedisClient.create(redis.url());
        try (StatefulRedisConnection<byte[], byte[]> c = client.connect(ByteArrayCodec.INSTANCE)) {
          List<StreamMessage<byte[], byte[]>> out = c.sync().xread(
              XReadArgs.StreamOffset.from("sg:stream:outbound:web".getBytes(StandardCharsets.UTF_8), "0-0"));
          EnvelopeCodec codec = EnvelopeCodec.create();
          long answers = out.stream()
              .map(m -> codec.decode(m.getBody().entrySet().stream() // byte[] keys: no map lookup by value
                  .filter(f -> "data".equals(new String(f.getKey(), StandardCharsets.UTF_8)))
                  .findFirst().orElseThrow().getValue()))
              .filter(e -> e instanceof OutboundEnvelope o && id.equals(o.inReplyTo()))
              .count();
          assertEquals(1, answers, "the message in flight at SIGTERM was answered once before the servers stopped");
        } finally {
          client.shutdown();
        }
      }
    } catch (Throwable t) {
      System.out.println(sa.logTail(20_000));
      throw t;
    } finally {
      if (sa.isAlive()) {
        sa.kill();
      }
    }
  }
}
