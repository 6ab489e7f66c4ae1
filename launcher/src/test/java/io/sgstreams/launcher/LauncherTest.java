package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LauncherTest {
  @TempDir Path tmp;

  private record Run(int status, String out, String err) {}

  private static Run sg(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = Sg.run(List.of(args), env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static Map<String, String> env(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  /** The tree these variables give, with the streams under a fresh test namespace and fast consumer settings. */
  private static SgConfig config(String nodeId, Map<String, String> env) {
    Map<String, String> e = new HashMap<>(env);
    e.put("SG_NODE_ID", nodeId);
    SgConfig fromEnv = ConfigLoader.load(null, e);
    SgConfig test = TestRedis.config(nodeId);
    return fromEnv.withTopology(test.topology()).withConsumer(test.consumer());
  }

  /**
   * picocli formats the help texts of annotations with String.format: a bare % (as in "5 % of a core") makes it
   * warn on stderr and print the raw text. Checks the annotations' own texts, as picocli reads them.
   */
  @Test
  void everyHelpTextOfEveryCommandFormats() {
    PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    List<String> broken = new java.util.ArrayList<>();
    java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>();
    todo.add(Sg.commandLine(new Sg.Context(Map.of(), sink, sink)));
    int texts = 0;
    while (!todo.isEmpty()) {
      picocli.CommandLine cl = todo.poll();
      todo.addAll(cl.getSubcommands().values());
      Object command = cl.getCommand();
      if (command == null) {
        continue;
      }
      List<String> all = new java.util.ArrayList<>();
      for (Class<?> k = command.getClass(); k != null && k != Object.class; k = k.getSuperclass()) {
        picocli.CommandLine.Command c = k.getAnnotation(picocli.CommandLine.Command.class);
        if (c != null) {
          all.addAll(List.of(c.description()));
        }
        for (java.lang.reflect.Field f : k.getDeclaredFields()) {
          picocli.CommandLine.Option o = f.getAnnotation(picocli.CommandLine.Option.class);
          if (o != null) {
            all.addAll(List.of(o.description()));
          }
          picocli.CommandLine.Parameters p = f.getAnnotation(picocli.CommandLine.Parameters.class);
          if (p != null) {
            all.addAll(List.of(p.description()));
          }
        }
      }
      for (String text : all) {
        texts++;
        try {
          String.format(text);
        } catch (java.util.IllegalFormatException e) {
          broken.add(cl.getCommandName() + ": " + text + " (" + e + ")");
        }
      }
    }
    assertTrue(texts > 50, "walked the help texts: " + texts);
    assertTrue(broken.isEmpty(), String.join("\n", broken));
  }

  @Test
  void nettyWatchesOneBufferInFourThousandForLeaksUnlessToldOtherwise() {
    java.util.Properties none = new java.util.Properties();
    Sg.sampleFewerBuffersForLeaks(none);
    assertEquals("4096", none.getProperty("io.netty.leakDetection.samplingInterval"));

    java.util.Properties given = new java.util.Properties();
    given.setProperty("io.netty.leakDetection.samplingInterval", "1");
    Sg.sampleFewerBuffersForLeaks(given);
    assertEquals("1", given.getProperty("io.netty.leakDetection.samplingInterval"), "a -D value is kept");
  }

  @Test
  void oneHttpEventLoopPerCpuUnlessToldOtherwise() {
    java.util.Properties two = new java.util.Properties();
    Sg.oneHttpLoopPerCpu(two, 2);
    assertEquals("2", two.getProperty("reactor.netty.ioWorkerCount"));

    java.util.Properties one = new java.util.Properties();
    Sg.oneHttpLoopPerCpu(one, 1);
    assertEquals("1", one.getProperty("reactor.netty.ioWorkerCount"), "not Reactor Netty's floor of 4");

    java.util.Properties given = new java.util.Properties();
    given.setProperty("reactor.netty.ioWorkerCount", "8");
    Sg.oneHttpLoopPerCpu(given, 2);
    assertEquals("8", given.getProperty("reactor.netty.ioWorkerCount"), "a -D value is kept");
  }

  @Test
  void helpAndUsageErrors() {
    Run help = sg(env(), "--help");
    assertEquals(0, help.status());
    for (String cmd : List.of("standalone", "gateway", "worker", "tools", "send", "bench", "config", "keys", "dlq", "history", "streams", "deploy", "completion")) {
      assertTrue(help.out().contains(cmd), help.out());
      Run r = sg(env(), cmd, "--help");
      assertEquals(0, r.status(), cmd);
      assertTrue(r.out().startsWith("Usage: sg " + cmd), r.out());
    }
    Run none = sg(env());
    assertEquals(2, none.status());
    assertTrue(none.err().startsWith("Usage: sg"), none.err());
    Run unknown = sg(env(), "frobnicate");
    assertEquals(2, unknown.status());
    assertTrue(unknown.err().contains("sg: unknown command 'frobnicate'"), unknown.err());
    Run typo = sg(env(), "standalon");
    assertEquals(2, typo.status());
    assertTrue(typo.err().contains("Did you mean") && typo.err().contains("standalone"), typo.err());
    Run noText = sg(env(), "send");
    assertEquals(2, noText.status());
    assertTrue(noText.err().contains("needs the message text"), noText.err());
    Run badOpt = sg(env(), "send", "hi", "--bogus", "1");
    assertEquals(2, badOpt.status());
    assertTrue(badOpt.err().contains("Unknown option: '--bogus'"), badOpt.err());
    Run optTypo = sg(env(), "send", "hi", "--chanel", "c");
    assertEquals(2, optTypo.status());
    assertTrue(optTypo.err().contains("--channel"), optTypo.err());
    Run badWait = sg(env(), "send", "hi", "--wait", "soon");
    assertEquals(2, badWait.status());
    Run extra = sg(env(), "worker", "now");
    assertEquals(2, extra.status());
    Run badBench = sg(env(), "bench", "--mode", "sideways");
    assertEquals(2, badBench.status());
    assertTrue(badBench.err().contains("--mode must be closed or open"), badBench.err());
    Run badRole = sg(env(), "config", "router");
    assertEquals(2, badRole.status());
    assertTrue(badRole.err().contains("unknown role 'router'"), badRole.err());
  }

  @Test
  void aRoleWithoutRedisUrlIsAClearConfigurationError() {
    Run r = sg(env(), "worker");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("configuration error: REDIS_URL"), r.err());
  }

  @Test
  void aBadSettingStopsStartupWithAnErrorNamingIt() {
    Run r = sg(env("REDIS_URL", "redis://127.0.0.1:1", "SG_READ_COUNT", "lots"), "worker");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("SG_READ_COUNT='lots' (consumer.read_count): must be an integer"), r.err());
    Run open = sg(env("REDIS_URL", "redis://127.0.0.1:1", "SG_HTTP_HOST", "0.0.0.0"), "gateway");
    assertEquals(2, open.status());
    assertTrue(open.err().contains("SG_API_KEYS"), open.err());
  }

  @Test
  void completionPrintsABashScript() {
    Run r = sg(env(), "completion");
    assertEquals(0, r.status(), r.err());
    assertTrue(r.out().contains("complete -F"), r.out());
    for (String cmd : List.of("standalone", "worker", "config", "send", "bench")) {
      assertTrue(r.out().contains(cmd), cmd);
    }
  }

  @Test
  void configPrintsTheEffectiveValuesTheirSourcesAndMasksSecrets() throws Exception {
    Path yaml = tmp.resolve("streams.yaml");
    Files.writeString(yaml, "consumer:\n  read_count: 7\n");
    Map<String, String> env = env("SG_CONFIG", yaml.toString(), "HOSTNAME", "box", "REDIS_URL", "redis://u:pw@h:6379",
        "SG_API_KEYS", "k1,k2", "OPENAI_API_KEY", "sk-secret", "SG_ADMIN_PORT", "9100");
    Run text = sg(env, "config", "worker");
    assertEquals(0, text.status(), text.err());
    assertFalse(text.out().contains("pw") || text.out().contains("sk-secret") || text.out().contains("k1"), text.out());
    assertTrue(text.out().matches("(?s).*\\nconsumer\\.read_count +SG_READ_COUNT +7 +" + Pattern.quote(yaml.toString()) + "\\n.*"),
        text.out());
    assertTrue(text.out().matches("(?s).*\\nredis\\.url +REDIS_URL +redis://u:\\*\\*\\*\\*@h:6379 +\\$REDIS_URL\\n.*"), text.out());
    assertTrue(text.out().matches("(?s).*\\nworker\\.admin_port +SG_WORKER_ADMIN_PORT +9100 +\\$SG_ADMIN_PORT\\n.*"), text.out());
    assertTrue(text.out().matches("(?s).*\\nnode\\.id +SG_NODE_ID +box +default: the host name\\n.*"), text.out());
    assertTrue(text.out().contains("# warning: SG_ADMIN_PORT is the former name of SG_WORKER_ADMIN_PORT"), text.out());
    assertFalse(text.out().contains("gateway.port"), "a worker reads no gateway setting");

    Run json = sg(env, "config", "--json");
    assertEquals(0, json.status(), json.err());
    JsonNode root = new ObjectMapper().readTree(json.out());
    assertEquals("standalone", root.get("role").asText());
    assertEquals(yaml.toString(), root.get("file").asText());
    Map<String, JsonNode> rows = new HashMap<>();
    root.get("settings").forEach(n -> rows.put(n.get("key").asText(), n));
    assertEquals(ConfigSchema.settings().size(), rows.size());
    assertEquals(7, rows.get("consumer.read_count").get("value").asInt());
    assertEquals("file", rows.get("consumer.read_count").get("source").asText());
    assertEquals(yaml.toString(), rows.get("consumer.read_count").get("from").asText());
    assertEquals("env", rows.get("worker.openai_api_key").get("source").asText());
    assertEquals("OPENAI_API_KEY", rows.get("worker.openai_api_key").get("from").asText());
    assertEquals("****", rows.get("worker.openai_api_key").get("value").asText());
    assertEquals("****", rows.get("gateway.api_keys").get("value").asText());
    assertTrue(rows.get("gateway.webhook_url").get("value").isNull());
    assertEquals("default", rows.get("streams.platforms").get("source").asText());
    assertEquals("[\"web\",\"webhook\"]", rows.get("streams.platforms").get("value").toString());
    assertTrue(root.get("warnings").size() >= 2, root.toString());

    Run bad = sg(env("SG_READ_COUNT", "lots"), "config");
    assertEquals(2, bad.status());
    assertTrue(bad.err().contains("SG_READ_COUNT='lots'"), bad.err());
  }

  @Test
  void sendReportsAnUnreachableGateway() {
    Run r = sg(env(), "send", "hello", "--url", "http://127.0.0.1:1", "--wait", "1");
    assertEquals(5, r.status());
    assertTrue(r.err().contains("cannot reach the gateway"), r.err());
  }

  @Test
  void standaloneAnswersSendAndAToolCallAndServesOneAdminServer() throws Exception {
    SgConfig config = config("launcher", env("SG_HTTP_PORT", "0", "SG_WORKER_ADMIN_PORT", "0", "SG_JOURNAL", "off")).withRedisUrl(TestRedis.url());
    ByteArrayOutputStream banner = new ByteArrayOutputStream();
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, new PrintStream(banner, true, StandardCharsets.UTF_8))) {
      String lines = banner.toString(StandardCharsets.UTF_8);
      assertTrue(lines.contains("gateway  http://127.0.0.1:"), lines);
      assertTrue(lines.contains("worker   worker-launcher, handler echo\n"), lines);
      assertTrue(lines.contains("tools    tools-launcher\n"), lines);
      assertTrue(lines.contains("admin    http://127.0.0.1:" + p.adminPort() + " (/health, /ready with every role's checks"), lines);
      // one admin server: the nodes run none of their own
      assertNull(p.worker().adminPort());
      assertNull(p.tools().adminPort());
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/ready")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ready.statusCode(), ready.body());
      JsonNode checks = new ObjectMapper().readTree(ready.body()).get("checks");
      for (String check : List.of("gateway.redis", "gateway.outbound_readers", "worker.redis", "worker.consumer",
          "tools.redis", "tools.consumer")) {
        assertTrue(checks.get(check).asBoolean(), check + " in " + ready.body());
      }
      HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(metrics.body().contains("sg_tool_calls_total") || metrics.body().contains("sg_"), "metrics of every role");
      String url = "http://127.0.0.1:" + p.gateway().port();

      Run hello = sg(env(), "send", "hello", "--url", url, "--wait", "10");
      assertEquals(0, hello.status(), hello.err());
      assertEquals("hello", hello.out().trim());

      Run calc = sg(env(), "send", "/tool calc {\"expr\":\"2*21\"}", "--url", url, "--wait", "10");
      assertEquals(0, calc.status(), calc.err());
      assertEquals("42", calc.out().trim());
    }
  }

  @Test
  void standaloneStartsAnEmbeddedRedisAndPostgresAndKeepsHistoryAcrossRestarts() throws Exception {
    SgConfig config = config("embedded", env("SG_HTTP_PORT", "0", "SG_WORKER_ADMIN_PORT", "-1",
        "SG_EMBEDDED_REDIS_PORT", "0", "SG_EMBEDDED_REDIS_DIR", tmp.resolve("redis").toString(),
        "SG_EMBEDDED_POSTGRES_PORT", "0", "SG_EMBEDDED_POSTGRES_DIR", tmp.resolve("postgres").toString()));
    ByteArrayOutputStream banner = new ByteArrayOutputStream();
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, new PrintStream(banner, true, StandardCharsets.UTF_8))) {
      String lines = banner.toString(StandardCharsets.UTF_8);
      assertTrue(lines.contains("(embedded Redis 7.0"), lines);
      assertTrue(lines.contains("(embedded PostgreSQL 16, data in " + tmp.resolve("postgres")), lines);
      assertTrue(lines.contains("journal  on"), lines);
      assertNull(p.adminPort());
      Run hello = sg(env(), "send", "hi there", "--channel", "kept", "--url", "http://127.0.0.1:" + p.gateway().port());
      assertEquals(0, hello.status(), hello.err());
      assertEquals("hi there", hello.out().trim());
      String url = "http://127.0.0.1:" + p.gateway().port() + "/v1/channels/kept/messages";
      org.awaitility.Awaitility.await("journaled").atMost(java.time.Duration.ofSeconds(30))
          .until(() -> history(url).size() == 2);
    }
    assertTrue(Files.exists(tmp.resolve("redis")));
    assertTrue(Files.exists(tmp.resolve("postgres").resolve("PG_VERSION")), "data kept");
    // a second run on the same directories serves the first run's conversation
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, new PrintStream(new ByteArrayOutputStream(), true,
        StandardCharsets.UTF_8))) {
      // the journal connects in the background: 503 journal_unavailable until its store is up
      String url = "http://127.0.0.1:" + p.gateway().port() + "/v1/channels/kept/messages";
      org.awaitility.Awaitility.await("journal up").atMost(java.time.Duration.ofSeconds(30))
          .ignoreExceptions().until(() -> history(url) != null);
      JsonNode messages = history(url);
      assertEquals(2, messages.size(), messages.toString());
      assertEquals("outbound", messages.get(0).get("kind").asText(), messages.toString());
      assertEquals("hi there", messages.get(0).get("content").asText(), messages.toString());
      assertEquals("inbound", messages.get(1).get("kind").asText(), messages.toString());
    }
  }

  @Test
  void anUnknownLogFormatIsAConfigurationError() {
    Run r = sg(env("SG_LOG_FORMAT", "xml"), "config");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("SG_LOG_FORMAT=xml: must be text or json"), r.err());
  }

  @Test
  void noJournalRunsStandaloneWithoutPostgres() {
    Run help = sg(env(), "standalone", "--help");
    assertTrue(help.out().contains("--no-journal"), help.out());
  }

  private static JsonNode history(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return new ObjectMapper().readTree(r.body()).get("messages");
  }
}
