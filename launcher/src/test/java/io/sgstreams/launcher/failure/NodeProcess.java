package io.sgstreams.launcher.failure;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code sg ROLE} node running as a child JVM on the test class path, its stdout and stderr
 * going to a log file under {@code target/failure-tests/}. Its admin port is chosen by the test so
 * that {@code /ready} can be polled.
 */
final class NodeProcess implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2))
      .build();

  private final String name;
  private final Process process;
  private final Path log;
  private final int adminPort;

  private NodeProcess(String name, Process process, Path log, int adminPort) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.adminPort = adminPort;
  }

  /**
   * Starts {@code java -Xmx256m -cp <test class path> io.sgstreams.launcher.Sg ROLE}.
   *
   * @param env the child's whole environment (nothing is inherited but PATH and HOME)
   */
  static NodeProcess start(String role, String name, Map<String, String> env, int adminPort, Path logDir) throws IOException {
    Files.createDirectories(logDir);
    Path log = logDir.resolve(name + ".log");
    String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb = new ProcessBuilder(List.of(javaBin, "-Xmx256m", "-XX:+UseSerialGC",
        "-cp", System.getProperty("java.class.path"), "io.sgstreams.launcher.Sg", role));
    Map<String, String> childEnv = pb.environment();
    String path = childEnv.get("PATH");
    String home = childEnv.get("HOME");
    childEnv.clear(); // no REDIS_URL / SG_* leaking in from the test JVM's environment
    if (path != null) {
      childEnv.put("PATH", path);
    }
    if (home != null) {
      childEnv.put("HOME", home);
    }
    childEnv.putAll(env);
    pb.directory(logDir.toFile()); // no ./streams.yaml there: the environment is the whole configuration
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Files.writeString(log, "=== start " + role + " " + name + " at " + Instant.now() + "\n",
        StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return new NodeProcess(name, pb.start(), log, adminPort);
  }

  String name() {
    return name;
  }

  int adminPort() {
    return adminPort;
  }

  Process process() {
    return process;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** GET /ready on the admin port: true on 200; false on any other status or no answer. */
  boolean ready() {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/ready"))
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The {@code sg_messages*} lines of the node's {@code /metrics}, for failure messages. */
  String messageMetrics() {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.body().lines().filter(l -> l.startsWith("sg_messages") || l.startsWith("sg_consumer")).reduce("", (a, b) -> a + "\n  " + b);
    } catch (IOException e) {
      return "(no metrics: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  /** SIGKILL: no shutdown hook runs. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException(name + " survived SIGKILL");
    }
  }

  /** SIGTERM: the launcher's shutdown hook drains. Returns the exit code, or null if still running at the deadline. */
  Integer terminate(Duration wait) throws InterruptedException {
    process.destroy();
    return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : null;
  }

  String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }

  /** The last {@code maxChars} of the log, framed with the node's name, for failure reports. */
  String logTail(int maxChars) {
    String text = logText();
    String tail = text.length() <= maxChars ? text : "…" + text.substring(text.length() - maxChars);
    return "----- " + name + " (" + log + ", " + (process.isAlive() ? "alive" : "exit " + process.exitValue()) + ") -----\n" + tail;
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
