package io.sgstreams.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.testkit.EmbeddedRedis.Persistence;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedRedisTest {
  @TempDir Path tmp;

  @Test
  void startsOnAFreePortAndCloseStopsItAndDeletesItsTemporaryDirectory() throws IOException {
    Path dir;
    int port;
    try (EmbeddedRedis redis = EmbeddedRedis.start()) {
      port = redis.port();
      dir = redis.dataDir();
      assertEquals("redis://127.0.0.1:" + port, redis.url());
      assertTrue(redis.isRunning());
      assertEquals("PONG", command(port, "PING"));
      assertTrue(Files.isDirectory(dir));
    }
    assertFalse(Files.exists(dir), "temporary data directory deleted");
    assertThrows(IOException.class, () -> command(port, "PING"));
  }

  @Test
  void withAnAppendOnlyFileTheDataSurvivesAStopAndStartOnTheSamePort() throws IOException {
    try (EmbeddedRedis redis = EmbeddedRedis.start(Persistence.AOF_FSYNC_ALWAYS)) {
      int port = redis.port();
      assertEquals("OK", command(port, "SET", "k", "kept"));
      assertEquals("always", command(port, "CONFIG", "GET", "appendfsync").split("\n")[1]);
      redis.stopServer();
      assertFalse(redis.isRunning());
      assertThrows(IOException.class, () -> command(port, "PING"));
      redis.startServer();
      assertEquals(port, redis.port());
      assertEquals("kept", command(port, "GET", "k"));
    }
  }

  @Test
  void withoutPersistenceARestartForgetsEverything() throws IOException {
    try (EmbeddedRedis redis = EmbeddedRedis.start()) {
      assertEquals("OK", command(redis.port(), "SET", "k", "v"));
      assertEquals("no", command(redis.port(), "CONFIG", "GET", "appendonly").split("\n")[1]);
      redis.stopServer();
      redis.startServer();
      assertEquals("(nil)", command(redis.port(), "GET", "k"));
    }
  }

  @Test
  void aGivenDataDirectoryIsUsedAndKept() throws IOException {
    Path dir = tmp.resolve("with space/redis");
    try (EmbeddedRedis redis = EmbeddedRedis.builder().dataDir(dir).persistence(Persistence.AOF_FSYNC_EVERYSEC).start()) {
      assertEquals(dir.toAbsolutePath(), redis.dataDir());
      assertEquals(dir.toAbsolutePath().toString(), command(redis.port(), "CONFIG", "GET", "dir").split("\n")[1]);
      assertEquals("everysec", command(redis.port(), "CONFIG", "GET", "appendfsync").split("\n")[1]);
      assertEquals("OK", command(redis.port(), "SET", "k", "on disk"));
    }
    assertTrue(Files.isDirectory(dir), "a given data directory is kept");
    // a new server on the same directory finds the data (what a restarted sg standalone relies on)
    try (EmbeddedRedis again = EmbeddedRedis.builder().dataDir(dir).persistence(Persistence.AOF_FSYNC_EVERYSEC).start()) {
      assertEquals("on disk", command(again.port(), "GET", "k"));
    }
  }

  @Test
  void aPreferredPortIsUsedWhenFreeElseAnyFreePort() throws IOException {
    int free;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      free = s.getLocalPort();
    }
    try (EmbeddedRedis redis = EmbeddedRedis.builder().preferredPort(free).start()) {
      assertEquals(free, redis.port());
      try (EmbeddedRedis second = EmbeddedRedis.builder().preferredPort(free).start()) {
        assertNotEquals(free, second.port());
        assertEquals("PONG", command(second.port(), "PING"));
      }
    }
    assertThrows(IllegalArgumentException.class, () -> EmbeddedRedis.builder().preferredPort(70000));
  }

  /** One command over RESP; the reply as text (arrays: one element per line, null: "(nil)"). */
  private static String command(int port, String... args) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(5000);
      StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
      for (String a : args) {
        req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
      }
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      return reply(in);
    }
  }

  private static String reply(BufferedReader in) throws IOException {
    String line = in.readLine();
    if (line == null) {
      throw new IOException("connection closed");
    }
    switch (line.charAt(0)) {
      case '+':
      case ':':
        return line.substring(1);
      case '-':
        throw new IOException("Redis error: " + line.substring(1));
      case '$':
        return Integer.parseInt(line.substring(1)) < 0 ? "(nil)" : in.readLine();
      case '*': {
        int n = Integer.parseInt(line.substring(1));
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
          b.append(i == 0 ? "" : "\n").append(reply(in));
        }
        return b.toString();
      }
      default:
        throw new IOException("unexpected reply " + line);
    }
  }
}
