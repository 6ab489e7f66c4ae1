package io.sgstreams.journal.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy for tests (blocking sockets, a thread per direction): {@link #cut()} drops every
 * connection and refuses new ones, as a database that went away would; {@link #restore()} lets
 * them through again.
 */
public final class TcpProxy implements AutoCloseable {
  private final ServerSocket server;
  private final String targetHost;
  private final int targetPort;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean cut;
  private volatile boolean closed;

  public TcpProxy(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = new ServerSocket();
    server.bind(new InetSocketAddress("127.0.0.1", 0));
    Thread t = new Thread(this::acceptLoop, "tcp-proxy-accept");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        if (cut) {
          client.close();
          continue;
        }
        Socket upstream = new Socket(targetHost, targetPort);
        open.add(client);
        open.add(upstream);
        pipe(client, upstream);
        pipe(upstream, client);
      } catch (IOException e) {
        // closed, or the target refused: the client sees its connection end
      }
    }
  }

  private void pipe(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // either side went away
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "tcp-proxy-pipe");
    t.setDaemon(true);
    t.start();
  }

  /** Drops every connection; new ones are closed at once. */
  public void cut() {
    cut = true;
    open.forEach(TcpProxy::closeQuietly);
    open.clear();
  }

  public void restore() {
    cut = false;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** {@code postgresUrl} with its host and port replaced by this proxy's. */
  public String through(String postgresUrl) {
    java.net.URI u = java.net.URI.create(postgresUrl.replaceFirst("^[a-z0-9:]*postgres(ql)?://", "http://"));
    String hostPort = u.getHost() + (u.getPort() == -1 ? "" : ":" + u.getPort());
    return postgresUrl.replace("@" + hostPort + "/", "@127.0.0.1:" + port() + "/").replace("//" + hostPort + "/",
        "//127.0.0.1:" + port() + "/");
  }

  /** A proxy to {@code postgresUrl}'s server. */
  public static TcpProxy to(String postgresUrl) throws IOException {
    java.net.URI u = java.net.URI.create(postgresUrl.replaceFirst("^[a-z0-9:]*postgres(ql)?://", "http://"));
    return new TcpProxy(u.getHost(), u.getPort() == -1 ? 5432 : u.getPort());
  }

  @Override
  public void close() {
    closed = true;
    cut();
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
