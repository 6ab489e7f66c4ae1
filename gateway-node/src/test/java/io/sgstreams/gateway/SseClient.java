package io.sgstreams.gateway;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A minimal SSE client for tests: parses events on a thread of its own. */
final class SseClient implements AutoCloseable {
  record Event(String id, String event, String data) {}

  final List<Event> events = new CopyOnWriteArrayList<>();
  final List<String> comments = new CopyOnWriteArrayList<>();
  final int status;
  volatile boolean ended;
  /** Why reading ended, when it was not a clean end of the response and not {@link #close()}. */
  volatile Exception failure;
  private volatile boolean closing;
  private final InputStream body;
  private final CountDownLatch connected = new CountDownLatch(1);
  private final Thread reader;

  SseClient(HttpClient http, int port, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
    headers.forEach(b::header);
    HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    status = r.statusCode();
    body = r.body();
    reader = new Thread(this::read, "sse-test-client");
    reader.setDaemon(true);
    reader.start();
    if (status == 200 && !connected.await(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("no ': connected' comment");
    }
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      Map<String, String> cur = new HashMap<>();
      String line;
      while ((line = in.readLine()) != null) {
        if (line.isEmpty()) {
          if (!cur.isEmpty()) {
            events.add(new Event(cur.get("id"), cur.getOrDefault("event", "message"), cur.get("data")));
            cur.clear();
          }
        } else if (line.startsWith(":")) {
          comments.add(line);
          if (line.contains("connected")) {
            connected.countDown();
          }
        } else {
          int c = line.indexOf(':');
          cur.put(line.substring(0, c), line.substring(c + 1).trim());
        }
      }
    } catch (Exception e) {
      if (!closing) {
        failure = e; // cut, not ended by the server
      }
    } finally {
      ended = true;
    }
  }

  List<Event> named(String name) {
    return events.stream().filter(e -> e.event().equals(name)).toList();
  }

  @Override
  public void close() throws Exception {
    closing = true;
    body.close();
    reader.join(Duration.ofSeconds(5).toMillis());
  }
}
