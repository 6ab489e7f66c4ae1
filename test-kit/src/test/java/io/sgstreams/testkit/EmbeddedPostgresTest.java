package io.sgstreams.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The embedded PostgreSQL, run as root too (CI is root): a real server, its data kept or deleted. */
class EmbeddedPostgresTest {

  @Test
  void startsOnAFreePortAnswersSqlAndCloseDeletesItsTemporaryDirectory() throws Exception {
    Path dir;
    String jdbc;
    try (EmbeddedPostgres pg = EmbeddedPostgres.start()) {
      dir = pg.dataDir();
      jdbc = pg.jdbcUrl();
      assertTrue(pg.isRunning());
      assertEquals("postgresql://postgres@127.0.0.1:" + pg.port() + "/postgres", pg.url());
      assertEquals("r2dbc:" + pg.url(), pg.r2dbcUrl());
      assertTrue(query(jdbc, "select version()").startsWith("PostgreSQL 16."), "PostgreSQL 16");
      assertEquals("postgres", query(jdbc, "select current_user"));
    }
    assertFalse(Files.exists(dir), "temporary data directory deleted");
    String gone = jdbc;
    assertThrows(SQLException.class, () -> query(gone, "select 1"));
  }

  @Test
  void aKeptDataDirectorySurvivesARestartAndAStopAndRestartOnTheSamePort() throws Exception {
    Path dir = Files.createTempDirectory("sg-pg-kept-");
    int port = freePort();
    try {
      try (EmbeddedPostgres pg = EmbeddedPostgres.start(dir, port)) {
        exec(pg.jdbcUrl(), "create table kept (v text); insert into kept values ('first run')");
        pg.stop();
        assertFalse(pg.isRunning());
        assertThrows(SQLException.class, () -> query(pg.jdbcUrl(), "select 1"));
        pg.restart();
        assertEquals("first run", query(pg.jdbcUrl(), "select v from kept"));
      }
      assertTrue(Files.exists(dir.resolve("PG_VERSION")), "a given data directory is kept");
      try (EmbeddedPostgres again = EmbeddedPostgres.start(dir, port)) {
        assertEquals("first run", query(again.jdbcUrl(), "select v from kept"));
      }
    } finally {
      deleteTree(dir);
    }
  }

  @Test
  void aServerOrphanedByAKilledProcessIsStoppedBeforeANewStartOnItsDirectory() throws Exception {
    Path dir = Files.createTempDirectory("sg-pg-orphan-");
    int port = freePort();
    try {
      // a child JVM starts the server on the kept directory and is SIGKILLed: its postmaster lives on
      Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), OrphanMaker.class.getName(), dir.toString(),
          Integer.toString(port))
          .redirectErrorStream(true).start();
      var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream()));
      StringBuilder seen = new StringBuilder();
      for (String line = out.readLine(); line != null && !line.equals("READY"); line = out.readLine()) {
        seen.append(line).append('\n');
      }
      assertTrue(child.isAlive(), "child started PostgreSQL: " + seen);
      child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      long orphan = Long.parseLong(Files.readAllLines(dir.resolve("postmaster.pid")).get(0).trim());
      assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "the race happened: an orphan");
      try (EmbeddedPostgres pg = EmbeddedPostgres.start(dir, port)) {
        assertEquals("1", query(pg.jdbcUrl(), "select 1"));
        assertFalse(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false), "orphan stopped");
      }
    } finally {
      deleteTree(dir);
    }
  }

  /** Started in a child JVM by the orphan test. */
  public static final class OrphanMaker {
    public static void main(String[] args) throws Exception {
      EmbeddedPostgres.start(Path.of(args[0]), Integer.parseInt(args[1]));
      System.out.print("READY\n");
      System.out.flush();
      Thread.sleep(600_000);
    }
  }

  static String query(String jdbc, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getString(1);
    }
  }

  static void exec(String jdbc, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(jdbc); Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  static void deleteTree(Path dir) throws IOException {
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
