package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The ops page in a real browser: a standalone pipeline under continuous traffic, headless Chromium
 * driven by {@code src/test/ops-page/script.js} (playwright-core) logs in through the form, waits for
 * the charts and samples the page's figures twice, 5 s apart; the script fails unless they moved, and
 * this test checks the sampled figures again. Screenshot: {@code launcher/target/ops-page.png}.
 *
 * <p>Needs {@code node}, {@code npm} and Chromium ({@code /usr/bin/chromium}, or {@code CHROMIUM}); {@code
 * .ci/run} installs them. Missing, the test fails saying so: a page nobody looked at is not tested. Alone:
 * {@code ./mvnw -pl launcher test -Dgroups=ops-page}.
 */
@Tag("ops-page")
class OpsPageBrowserTest {
  private static final String KEY = "ops-page-test-key";
  private static final Path DIR = Path.of(System.getProperty("basedir", ".")).resolve("src/test/ops-page");
  private static final Path SHOTS = Path.of(System.getProperty("basedir", ".")).resolve("target");

  @Test
  void theLoggedInPageShowsLiveFiguresThatMoveUnderTraffic() throws Exception {
    JsonNode r = page(1);
    assertTrue(r.get("charts").asInt() >= 1 + 4, "the rates chart and one per stream: " + r);
  }

  /** With partitions: one chart per logical stream (its totals), not one per partition; figures still move. */
  @Test
  void withPartitionsThePageChartsEachLogicalStreamOnce() throws Exception {
    JsonNode r = page(4);
    // rates + inbound, outbound web, outbound webhook, dlq (totals) + tools; per partition it would be 1 + 4 * 4 + 1
    int charts = r.get("charts").asInt();
    assertTrue(charts >= 1 + 4 && charts <= 1 + 4 + 2, "one chart per logical stream: " + r);
  }

  private JsonNode page(int partitions) throws Exception {
    String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
    require(Files.isExecutable(Path.of(chromium)), "Chromium not found at " + chromium
        + ": apt-get install -y chromium (or set CHROMIUM); .ci/run installs it");
    require(run(DIR, Duration.ofSeconds(20), "node", "--version").status == 0, "node not found: apt-get install -y nodejs npm");
    if (!Files.isDirectory(DIR.resolve("node_modules/playwright-core"))) {
      Out ci = run(DIR, Duration.ofMinutes(3), "npm", "ci", "--no-audit", "--no-fund");
      require(ci.status == 0, "npm ci in " + DIR + " failed: " + ci.text);
    }

    Map<String, String> env = new HashMap<>();
    env.put("SG_NODE_ID", "opspage");
    env.put("SG_HTTP_PORT", "0");
    env.put("SG_WORKER_ADMIN_PORT", "0");
    env.put("SG_JOURNAL", "off");
    env.put("SG_OPS_KEYS", KEY);
    SgConfig test = TestRedis.config("opspage");
    SgConfig config = ConfigLoader.load(null, env).withTopology(test.topology()).withConsumer(test.consumer())
        .withRedisUrl(TestRedis.url()).withPartitions(partitions);
    Path shot = SHOTS.resolve(partitions == 1 ? "ops-page.png" : "ops-page-p" + partitions + ".png");
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
      String admin = "http://127.0.0.1:" + p.adminPort();
      HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
      // without a key: the login form, and no data
      HttpResponse<String> form = http.send(HttpRequest.newBuilder(URI.create(admin + "/ops")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, form.statusCode());
      assertTrue(form.body().contains("action=\"/ops/login\""), form.body());
      HttpResponse<String> noKey = http.send(HttpRequest.newBuilder(URI.create(admin + "/ops/events")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(401, noKey.statusCode(), noKey.body());

      AtomicBoolean sending = new AtomicBoolean(true);
      AtomicInteger accepted = new AtomicInteger();
      Thread traffic = new Thread(() -> {
        String url = "http://127.0.0.1:" + p.gateway().port() + "/v1/messages";
        for (int i = 0; sending.get(); i++) {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"channel_id\":\"ops-page\",\"user_id\":\"u\",\"content\":\"hello " + i + "\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 202) {
              accepted.incrementAndGet();
            }
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          } catch (IOException e) {
            // the pipeline is stopping
          }
        }
      }, "ops-page-traffic");
      traffic.setDaemon(true);
      traffic.start();
      try {
        Files.createDirectories(shot.getParent());
        Files.deleteIfExists(shot);
        Out page = run(DIR, Duration.ofSeconds(90), "node", "script.js", admin + "/ops", KEY, shot.toString());
        assertEquals(0, page.status, page.text);
        String json = page.text.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(page.text));
        JsonNode r = new ObjectMapper().readTree(json);
        JsonNode first = r.get("first");
        JsonNode second = r.get("second");
        assertTrue(r.get("login_rejected").asBoolean(), json);
        assertTrue(second.get("snapshots").asInt() > first.get("snapshots").asInt(), json);
        assertTrue(second.get("published").asLong() > first.get("published").asLong(), json);
        assertTrue(second.get("acked").asLong() > 0, "the worker acknowledged: " + json);
        assertTrue(Double.parseDouble(second.get("rate_published").asText()) > 0, "a publish rate under traffic: " + json);
        assertFalse(second.get("inbound_last_id").asText().equals(first.get("inbound_last_id").asText()), json);
        assertEquals("opspage", second.get("node").asText(), json);
        // gateway, worker and tools of this process report their counters
        assertEquals(3, second.get("nodes").asInt(), json);
        assertTrue(second.get("consumer_rows").asInt() > 0, json);
        assertTrue(second.get("badges").toString().contains("ok"), json);
        assertTrue(Files.size(shot) > 10_000, "a screenshot at " + shot);
        assertTrue(accepted.get() > 0);
        return r;
      } finally {
        sending.set(false);
        traffic.join(5000);
      }
    }
  }

  private record Out(int status, String text) {}

  private static void require(boolean ok, String message) {
    if (!ok) {
      fail("the ops page browser test cannot run: " + message);
    }
  }

  private static Out run(Path dir, Duration timeout, String... command) throws InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(command));
    try {
      Process proc = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      Thread reader = new Thread(() -> {
        try {
          proc.getInputStream().transferTo(out);
        } catch (IOException ignored) {
          // the process ended
        }
      });
      reader.start();
      if (!proc.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        proc.destroyForcibly();
        reader.join(2000);
        return new Out(-1, "timed out after " + timeout + ": " + String.join(" ", cmd) + "\n" + out.toString(StandardCharsets.UTF_8));
      }
      reader.join(2000);
      return new Out(proc.exitValue(), out.toString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Out(-1, "cannot run " + String.join(" ", cmd) + ": " + e.getMessage());
    }
  }
}
