package io.sgstreams.launcher;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import redis.embedded.RedisServer;

/**
 * The Redis that {@code sg standalone} starts when {@code REDIS_URL} is unset: the Redis 7.0
 * binary bundled in {@code org.signal:embedded-redis}, on loopback, with an append-only file in
 * a data directory so a restart of the process keeps pending work.
 */
final class EmbeddedRedisServer implements AutoCloseable {
  static final int DEFAULT_PORT = 6399;

  private final RedisServer server;
  private final int port;
  private final Path dir;

  private EmbeddedRedisServer(RedisServer server, int port, Path dir) {
    this.server = server;
    this.port = port;
    this.dir = dir;
  }

  /** On {@code preferredPort}, or a free port if that one is taken. */
  static EmbeddedRedisServer start(int preferredPort, Path dataDir) throws IOException {
    return start(preferredPort, dataDir, true);
  }

  /** @param persistent append-only file (standalone) or nothing on disk (benchmarks) */
  static EmbeddedRedisServer start(int preferredPort, Path dataDir, boolean persistent) throws IOException {
    int port = preferredPort > 0 && isFree(preferredPort) ? preferredPort : freePort();
    Files.createDirectories(dataDir);
    RedisServer s = RedisServer.builder()
        .port(port)
        .bind("127.0.0.1")
        .setting("dir " + dataDir.toAbsolutePath())
        .setting("appendonly " + (persistent ? "yes" : "no"))
        .setting("appendfsync everysec")
        .setting("save \"\"")
        .build();
    s.start();
    awaitOpen(port);
    return new EmbeddedRedisServer(s, port, dataDir);
  }

  String url() {
    return "redis://127.0.0.1:" + port;
  }

  Path dataDir() {
    return dir;
  }

  @Override
  public void close() {
    server.stop();
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void awaitOpen(int port) throws IOException {
    Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
    while (Instant.now().isBefore(deadline)) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for the embedded Redis");
        }
      }
    }
    throw new IOException("embedded Redis did not open port " + port);
  }
}
