package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  @Test
  void helpAndUsageErrors() {
    Run help = sg(env(), "--help");
    assertEquals(0, help.status());
    assertTrue(help.out().contains("standalone"), help.out());
    for (String cmd : List.of("standalone", "gateway", "worker", "tools", "send")) {
      Run r = sg(env(), cmd, "--help");
      assertEquals(0, r.status(), cmd);
      assertTrue(r.out().startsWith("usage: sg " + cmd), r.out());
    }
    assertEquals(2, sg(env()).status());
    Run unknown = sg(env(), "frobnicate");
    assertEquals(2, unknown.status());
    assertTrue(unknown.err().contains("unknown command 'frobnicate'"));
    Run noText = sg(env(), "send");
    assertEquals(2, noText.status());
    assertTrue(noText.err().contains("needs the message text"), noText.err());
    Run badOpt = sg(env(), "send", "hi", "--bogus", "1");
    assertEquals(2, badOpt.status());
    assertTrue(badOpt.err().contains("unknown option --bogus"), badOpt.err());
  }

  @Test
  void aRoleWithoutRedisUrlIsAClearConfigurationError() {
    // ConfigLoader reads the real environment; only run when the test JVM has no REDIS_URL
    if (System.getenv("REDIS_URL") != null) {
      return;
    }
    Run r = sg(env(), "worker");
    assertEquals(2, r.status());
    assertTrue(r.err().contains("REDIS_URL"), r.err());
  }

  @Test
  void sendReportsAnUnreachableGateway() {
    Run r = sg(env(), "send", "hello", "--url", "http://127.0.0.1:1", "--wait", "1");
    assertEquals(5, r.status());
    assertTrue(r.err().contains("cannot reach the gateway"), r.err());
  }

  @Test
  void standaloneAnswersSendAndAToolCall() throws Exception {
    SgConfig config = TestRedis.config("launcher").withRedisUrl(TestRedis.url());
    Map<String, String> env = env("SG_HTTP_PORT", "0", "SG_ADMIN_PORT", "0", "SG_TOOLS_ADMIN_PORT", "0");
    ByteArrayOutputStream banner = new ByteArrayOutputStream();
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, env, new PrintStream(banner, true, StandardCharsets.UTF_8))) {
      String lines = banner.toString(StandardCharsets.UTF_8);
      assertTrue(lines.contains("gateway  http://127.0.0.1:"), lines);
      assertTrue(lines.contains("worker   worker-launcher"), lines);
      assertTrue(lines.contains("tools    tools-launcher"), lines);
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
  void standaloneStartsAnEmbeddedRedisWhenNoneIsConfigured() throws Exception {
    SgConfig config = TestRedis.config("embedded");
    Map<String, String> env = env("SG_HTTP_PORT", "0", "SG_ADMIN_PORT", "-1", "SG_TOOLS_ADMIN_PORT", "-1",
        "SG_EMBEDDED_REDIS_PORT", "0", "SG_EMBEDDED_REDIS_DIR", tmp.resolve("redis").toString());
    ByteArrayOutputStream banner = new ByteArrayOutputStream();
    try (Pipeline p = Pipeline.start(Role.STANDALONE, config, env, new PrintStream(banner, true, StandardCharsets.UTF_8))) {
      assertTrue(banner.toString(StandardCharsets.UTF_8).contains("(embedded Redis 7.0"), banner.toString(StandardCharsets.UTF_8));
      Run hello = sg(env(), "send", "hi there", "--url", "http://127.0.0.1:" + p.gateway().port());
      assertEquals(0, hello.status(), hello.err());
      assertEquals("hi there", hello.out().trim());
    }
    assertTrue(Files.exists(tmp.resolve("redis")));
  }
}
