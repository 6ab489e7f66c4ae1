package io.sgstreams.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Objects;
import java.util.stream.Stream;
import redis.embedded.RedisServer;

/**
 * A real Redis 7.0 server process (the binary bundled in {@code org.signal:embedded-redis}) on a
 * loopback port: what the tests use when {@code REDIS_URL} is unset, what {@code sg standalone}
 * starts when {@code REDIS_URL} is unset, and what {@code sg bench} measures against when given no
 * Redis. It can be stopped and started again on the same port (a Redis restart); with an
 * append-only file it keeps its data across that restart.
 *
 * <pre>{@code
 * try (EmbeddedRedis redis = EmbeddedRedis.start()) { ... redis.url() ... }              // tests
 * EmbeddedRedis.builder().preferredPort(6399).dataDir(dir)                               // standalone
 *     .persistence(EmbeddedRedis.Persistence.AOF_FSYNC_EVERYSEC).start();
 * }</pre>
 *
 * <p>Without {@link Builder#dataDir(Path)} the data lives in a temporary directory that {@link
 * #close()} deletes; a given data directory is kept (a later start finds its data there).
 */
public final class EmbeddedRedis implements AutoCloseable {
  /** How long starting or stopping may take before it is reported as failed. */
  private static final Duration PORT_TIMEOUT = Duration.ofSeconds(10);
  /** Where the server listens: 127.0.0.1 (not ::1, whatever the JVM prefers). */
  private static final InetAddress LOOPBACK = loopback();

  /** What Redis writes to disk. */
  public enum Persistence {
    /** Nothing: data lives in memory only and is gone after a restart. */
    NONE,
    /** An append-only file fsynced once a second (a crash of the machine may lose the last second). */
    AOF_FSYNC_EVERYSEC,
    /** An append-only file fsynced before every reply: nothing acknowledged is lost by a restart. */
    AOF_FSYNC_ALWAYS
  }

  private final int port;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final Persistence persistence;
  private RedisServer server;

  private EmbeddedRedis(int port, Path dataDir, boolean ownsDataDir, Persistence persistence) {
    this.port = port;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.persistence = persistence;
  }

  /** Started on a free port, nothing on disk, data in a temporary directory deleted by {@link #close()}. */
  public static EmbeddedRedis start() {
    return builder().start();
  }

  /** Started on a free port with {@code persistence}, in a temporary directory deleted by {@link #close()}. */
  public static EmbeddedRedis start(Persistence persistence) {
    return builder().persistence(persistence).start();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Which port, where the data goes and what is written to disk; {@link #start()} starts the server. */
  public static final class Builder {
    private int preferredPort;
    private Path dataDir;
    private Persistence persistence = Persistence.NONE;

    private Builder() {}

    /** This port when it is free, else any free port (see {@link #port()}); 0 (the default) or less: any free port. */
    public Builder preferredPort(int port) {
      if (port > 65535) {
        throw new IllegalArgumentException("port must be at most 65535, got " + port);
      }
      this.preferredPort = Math.max(0, port);
      return this;
    }

    /** Where Redis keeps its files (created if missing, kept by {@link #close()}); default: a temporary directory. */
    public Builder dataDir(Path dir) {
      this.dataDir = dir;
      return this;
    }

    /** Default {@link Persistence#NONE}. */
    public Builder persistence(Persistence persistence) {
      this.persistence = Objects.requireNonNull(persistence, "persistence");
      return this;
    }

    /**
     * Starts the server and returns once it accepts connections.
     *
     * @throws UncheckedIOException when the data directory cannot be created or no port is free
     * @throws IllegalStateException when the server does not start or does not open its port
     */
    public EmbeddedRedis start() {
      try {
        int port = preferredPort > 0 && isFree(preferredPort) ? preferredPort : freePort();
        Path dir;
        boolean owned;
        if (dataDir != null) {
          dir = Files.createDirectories(dataDir).toAbsolutePath();
          owned = false;
        } else {
          dir = Files.createTempDirectory("sg-redis-").toAbsolutePath();
          owned = true;
        }
        EmbeddedRedis redis = new EmbeddedRedis(port, dir, owned, persistence);
        try {
          redis.startServer();
        } catch (RuntimeException e) {
          redis.close();
          throw e;
        }
        return redis;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start an embedded Redis: " + e.getMessage(), e);
      }
    }
  }

  /** Starts the server (again) on the same port, with the same data directory; waits until it accepts connections. */
  public synchronized void startServer() {
    if (server != null) {
      return;
    }
    RedisServer s;
    try {
      s = RedisServer.builder()
          .port(port)
          .bind("127.0.0.1")
          .setting("dir " + quoted(dataDir.toString()))
          .setting("save \"\"")
          .setting("appendonly " + (persistence == Persistence.NONE ? "no" : "yes"))
          .setting("appendfsync " + (persistence == Persistence.AOF_FSYNC_EVERYSEC ? "everysec" : "always"))
          .setting("protected-mode no")
          .build();
      s.start();
    } catch (RuntimeException e) {
      throw new IllegalStateException("embedded Redis did not start on port " + port + ": " + e.getMessage(), e);
    }
    server = s;
    awaitPort(true);
  }

  /** Stops the server (its data directory stays); waits until the port is closed. */
  public synchronized void stopServer() {
    if (server != null) {
      try {
        server.stop();
      } finally {
        server = null;
      }
      awaitPort(false);
    }
  }

  public synchronized boolean isRunning() {
    return server != null;
  }

  public int port() {
    return port;
  }

  /** {@code redis://127.0.0.1:PORT} */
  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Persistence persistence() {
    return persistence;
  }

  /** Stops the server and deletes the data directory if it is a temporary one of its own. */
  @Override
  public synchronized void close() {
    try {
      stopServer();
    } finally {
      if (ownsDataDir) {
        deleteRecursively(dataDir);
      }
    }
  }

  @Override
  public String toString() {
    return "EmbeddedRedis[" + url() + ", " + persistence + ", " + dataDir + (isRunning() ? "" : ", stopped") + "]";
  }

  private void awaitPort(boolean open) {
    Instant deadline = Instant.now().plus(PORT_TIMEOUT);
    while (isOpen(port) != open) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("embedded Redis on port " + port + " did not " + (open ? "open" : "close")
            + " its port within " + PORT_TIMEOUT.toSeconds() + " s");
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the embedded Redis on port " + port, e);
      }
    }
  }

  private static boolean isOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(LOOPBACK, port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, LOOPBACK)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      return s.getLocalPort();
    }
  }

  private static InetAddress loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (java.net.UnknownHostException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** A redis.conf argument in double quotes, so a directory with spaces stays one argument. */
  private static String quoted(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temporary directory: best effort
    }
  }
}
