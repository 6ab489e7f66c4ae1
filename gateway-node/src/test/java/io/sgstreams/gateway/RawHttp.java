package io.sgstreams.gateway;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A plain TCP connection to a gateway, for what an HTTP client library will not do (trickle bytes, hang up mid-request). */
final class RawHttp implements AutoCloseable {
  final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  RawHttp(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = socket.getInputStream();
  }

  void send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** A complete POST with a JSON body. */
  static String post(String pathAndQuery, String body, String... headers) {
    StringBuilder b = new StringBuilder("POST " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n");
    for (String h : headers) {
      b.append(h).append("\r\n");
    }
    return b.append("\r\n").append(body).toString();
  }

  /** Whatever the server sent until it closed the connection or {@code timeoutMs} passed. */
  String readUntilClosed(int timeoutMs) throws IOException {
    socket.setSoTimeout(timeoutMs);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) >= 0) {
        b.write(buf, 0, n);
      }
    } catch (SocketTimeoutException e) {
      throw new SocketTimeoutException("still open after " + timeoutMs + " ms; read so far: " + b.toString(StandardCharsets.UTF_8));
    } catch (SocketException e) {
      // reset by the server: closed as well
    }
    return b.toString(StandardCharsets.UTF_8);
  }

  /** The first response's head (status line and headers), read byte by byte. */
  String readHead(int timeoutMs) throws IOException {
    socket.setSoTimeout(timeoutMs);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    while (true) {
      int c = in.read();
      if (c < 0) {
        break;
      }
      b.write(c);
      String s = b.toString(StandardCharsets.ISO_8859_1);
      if (s.endsWith("\r\n\r\n")) {
        break;
      }
    }
    return b.toString(StandardCharsets.ISO_8859_1);
  }

  /** The first response: its head and, after it, the body of its {@code Content-Length}. */
  String readResponse(int timeoutMs) throws IOException {
    String head = readHead(timeoutMs);
    int length = 0;
    for (String line : head.split("\r\n")) {
      if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring(15).trim());
      }
    }
    return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
