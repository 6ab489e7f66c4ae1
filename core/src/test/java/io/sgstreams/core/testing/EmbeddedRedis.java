package io.sgstreams.core.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import redis.embedded.RedisServer;

/**
 * A real Redis 7.0 server process (the {@code org.signal:embedded-redis} binary) on a free
 * loopback port. Can be stopped and started again on the same port; with {@code persistent}
 * it keeps its data across restarts in an append-only file fsynced on every write.
 */
public final class EmbeddedRedis implements AutoCloseable {
  private final int port;
  private final Path dir;
  private final boolean persistent;
  private RedisServer server;

  private EmbeddedRedis(int port, boolean persistent) throws IOException {
    this.port = port;
    this.persistent = persistent;
    this.dir = Files.createTempDirectory("sg-redis-");
  }

  /** Started, without persistence. */
  public static EmbeddedRedis start() {
    return start(false);
  }

  public static EmbeddedRedis start(boolean persistent) {
    try {
      EmbeddedRedis r = new EmbeddedRedis(freePort(), persistent);
      r.startServer();
      return r;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start embedded Redis", e);
    }
  }

  public synchronized void startServer() {
    RedisServer s = RedisServer.builder()
        .port(port)
        .bind("127.0.0.1")
        .setting("dir " + dir)
        .setting("save \"\"")
        .setting("appendonly " + (persistent ? "yes" : "no"))
        .setting("appendfsync always")
        .setting("protected-mode no")
        .build();
    s.start();
    server = s;
    awaitPort(true);
  }

  public synchronized void stopServer() {
    if (server != null) {
      server.stop();
      server = null;
      awaitPort(false);
    }
  }

  public int port() {
    return port;
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    stopServer();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp dir; best effort
    }
  }

  private void awaitPort(boolean open) {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
    while (Instant.now().isBefore(deadline)) {
      boolean isOpen;
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
        isOpen = true;
      } catch (IOException e) {
        isOpen = false;
      }
      if (isOpen == open) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    throw new IllegalStateException("embedded Redis on port " + port + " did not " + (open ? "open" : "close"));
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }
}
