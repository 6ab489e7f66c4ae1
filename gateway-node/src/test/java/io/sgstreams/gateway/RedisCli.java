package io.sgstreams.gateway;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A few raw RESP commands on a connection of its own, for what the tests do to a Redis server
 * itself ({@code CLIENT PAUSE}, {@code CLIENT LIST}): independent of the gateway's connections.
 */
final class RedisCli implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RedisCli(String redisUrl) throws IOException {
    URI u = URI.create(redisUrl);
    socket = new Socket(u.getHost(), u.getPort());
    socket.setSoTimeout(10_000);
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Sends one command and returns its reply: a string, a long, null, or a list of those. */
  synchronized Object call(String... args) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(("*" + args.length + "\r\n").getBytes(StandardCharsets.UTF_8));
    for (String a : args) {
      byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
      b.writeBytes(("$" + bytes.length + "\r\n").getBytes(StandardCharsets.UTF_8));
      b.writeBytes(bytes);
      b.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    out.write(b.toByteArray());
    out.flush();
    return read();
  }

  private Object read() throws IOException {
    int type = in.read();
    String line = line();
    switch (type) {
      case '+':
        return line;
      case '-':
        throw new IOException("redis: " + line);
      case ':':
        return Long.parseLong(line);
      case '$': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        byte[] data = in.readNBytes(n);
        line();
        return new String(data, StandardCharsets.UTF_8);
      }
      case '*': {
        int n = Integer.parseInt(line);
        if (n < 0) {
          return null;
        }
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          items.add(read());
        }
        return items;
      }
      default:
        throw new IOException("unexpected reply type " + type);
    }
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != '\r') {
      if (c < 0) {
        throw new IOException("connection closed");
      }
      b.write(c);
    }
    in.read(); // \n
    return b.toString(StandardCharsets.UTF_8);
  }

  /** Whether a client of the server is held by a pause with {@code command} ({@code CLIENT LIST}: flag b, cmd). */
  boolean blockedOn(String command) throws IOException {
    String list = (String) call("CLIENT", "LIST");
    for (String client : list.split("\n")) {
      if (client.contains(" cmd=" + command + " ") && client.matches(".* flags=[a-zA-Z]*b[a-zA-Z]* .*")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
