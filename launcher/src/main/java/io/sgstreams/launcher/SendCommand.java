package io.sgstreams.launcher;

import io.sgstreams.core.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sg send TEXT}: posts one message to a gateway and prints the answer as it streams: it
 * subscribes to the conversation's Server-Sent Events first, then posts, then prints the
 * {@code delta} events of its reply as they arrive and ends with the final message. With
 * {@code --no-stream} it posts with {@code ?wait} and prints the whole answer.
 */
@Command(name = "send", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Posts a message to a running gateway and prints the reply.",
        "Subscribes to GET /v1/channels/CHANNEL/events, posts TEXT to POST /v1/messages and prints the answer as it "
            + "streams (tool calls on stderr); --no-stream posts with ?wait=SECONDS and prints the whole answer."},
    footer = {"", "Exit status: 0 reply printed (or accepted with --wait 0), 2 usage error, 3 no reply in time, "
        + "4 the gateway refused the message, 5 the gateway could not be reached, 6 the reply was an error "
        + "(its code and message on stderr)."})
final class SendCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Parameters(paramLabel = "TEXT", arity = "0..*", description = "the message (several words are joined by spaces)")
  List<String> text = List.of();

  @Option(names = "--channel", paramLabel = "C", defaultValue = "cli", description = "conversation id (default: ${DEFAULT-VALUE})")
  String channel;

  @Option(names = "--user", paramLabel = "U", description = "user id (default: $USER, else cli)")
  String user;

  @Option(names = "--platform", paramLabel = "P", defaultValue = "web", description = "platform (default: ${DEFAULT-VALUE})")
  String platform;

  @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "10",
      description = "seconds to wait for the reply (default ${DEFAULT-VALUE}; 0 = don't wait, print the ids)")
  double waitS;

  @Option(names = "--url", paramLabel = "URL",
      description = "gateway base URL (default: $SG_GATEWAY_URL, else http://127.0.0.1:$SG_HTTP_PORT or :8080)")
  String url;

  @Option(names = "--api-key", paramLabel = "KEY", description = "API key (default: $SG_API_KEY, else the key of the first $SG_API_KEYS entry)")
  String apiKey;

  @Option(names = "--json", description = "print the reply envelopes as JSON, one per line (deltas included when streaming)")
  boolean json;

  @Option(names = "--no-stream", description = "wait for the whole answer (POST ?wait) instead of printing it as it streams")
  boolean noStream;

  static final int ERROR_REPLY = 6;


  private final Sg.Context ctx;

  SendCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    Map<String, String> env = ctx.env();
    PrintStream out = ctx.out();
    PrintStream err = ctx.err();
    if (text.isEmpty()) {
      throw new Cli.UsageException("sg send needs the message text");
    }
    String message = String.join(" ", text);
    if (waitS < 0 || Double.isNaN(waitS)) {
      throw new Cli.UsageException("--wait must not be negative");
    }
    String base = url != null ? url : env.getOrDefault("SG_GATEWAY_URL",
        "http://127.0.0.1:" + env.getOrDefault("SG_HTTP_PORT", "8080"));
    String key = apiKey != null ? apiKey : env.getOrDefault("SG_API_KEY", firstKey(env.get("SG_API_KEYS")));

    ObjectNode body = Json.object();
    body.put("platform", platform);
    body.put("channel_id", channel);
    body.put("user_id", user != null ? user : env.getOrDefault("USER", "cli"));
    body.put("content", message);

    long waitWhole = (long) Math.ceil(waitS);
    if (!noStream && waitWhole > 0) {
      Integer streamed = streamed(base, key, body, waitWhole, out, err);
      if (streamed != null) {
        return streamed;
      }
      // the gateway serves no event stream here (an older one): wait for the whole answer instead
    }
    String target = base.replaceAll("/+$", "") + "/v1/messages" + (waitWhole > 0 ? "?wait=" + URLEncoder.encode(Long.toString(waitWhole), StandardCharsets.UTF_8) : "");
    HttpRequest.Builder req;
    try {
      req = HttpRequest.newBuilder(URI.create(target));
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException("bad gateway URL '" + base + "': " + e.getMessage());
    }
    req.timeout(Duration.ofSeconds(waitWhole + 10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (key != null && !key.isBlank()) {
      req.header("Authorization", "Bearer " + key);
    }
    HttpResponse<String> res;
    try {
      res = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
          .send(req.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      err.printf("sg send: cannot reach the gateway at %s: %s%n", base, e.getMessage() == null ? e.toString() : e.getMessage());
      err.println("Is it running? Start one with: bin/sg standalone");
      return 5;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 5;
    }
    JsonNode answer = parse(res.body());
    if (json) {
      out.println(res.body());
    }
    int status = res.statusCode();
    if (status == 200) {
      if ("error".equals(answer.path("type").asText())) {
        return errorReply(answer, err);
      }
      if (!json) {
        out.println(answer.path("content").asText(res.body()));
      }
      return 0;
    }
    if (status == 202) {
      if (!json) {
        out.printf("accepted: id %s, correlation_id %s%n", answer.path("id").asText(), answer.path("correlation_id").asText());
      }
      return 0;
    }
    if (status == 504) {
      err.printf("sg send: no reply within %s s (message id %s); it will still be delivered to the channel's subscribers%n",
          waitWhole, answer.path("id").asText("?"));
      return 3;
    }
    JsonNode e = answer.path("error");
    err.printf("sg send: the gateway answered %d: %s%n", status,
        e.isObject() ? e.path("code").asText() + ": " + e.path("message").asText() : res.body());
    return 4;
  }

  /**
   * Subscribe, post, print the reply's events until its final message. Null when the gateway has
   * no event stream for this channel (404), so the caller falls back to {@code ?wait}.
   */
  private Integer streamed(String base, String key, ObjectNode body, long waitSeconds, PrintStream out, PrintStream err) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String root = base.replaceAll("/+$", "");
    HttpRequest.Builder sub;
    try {
      sub = HttpRequest.newBuilder(URI.create(root + "/v1/channels/" + URLEncoder.encode(channel, StandardCharsets.UTF_8)
          .replace("+", "%20") + "/events?platform=" + URLEncoder.encode(platform, StandardCharsets.UTF_8)));
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException("bad gateway URL '" + base + "': " + e.getMessage());
    }
    sub.header("Accept", "text/event-stream").GET();
    HttpRequest.Builder post = HttpRequest.newBuilder(URI.create(root + "/v1/messages"))
        .timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (key != null && !key.isBlank()) {
      sub.header("Authorization", "Bearer " + key);
      post.header("Authorization", "Bearer " + key);
    }
    EventStream events;
    try {
      HttpResponse<InputStream> res = http.send(sub.build(), HttpResponse.BodyHandlers.ofInputStream());
      if (res.statusCode() == 404) {
        res.body().close();
        return null;
      }
      if (res.statusCode() != 200) {
        String text = new String(res.body().readAllBytes(), StandardCharsets.UTF_8);
        return refused(res.statusCode(), parse(text), text, err);
      }
      events = new EventStream(res.body());
    } catch (IOException e) {
      return unreachable(base, e, err);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 5;
    }
    try (events) {
      if (!events.connected(Duration.ofSeconds(10))) {
        err.printf("sg send: the gateway at %s opened no event stream%n", base);
        return 5;
      }
      HttpResponse<String> accepted;
      try {
        accepted = http.send(post.build(), HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        return unreachable(base, e, err);
      }
      JsonNode ack = parse(accepted.body());
      if (accepted.statusCode() != 202) {
        return refused(accepted.statusCode(), ack, accepted.body(), err);
      }
      String id = ack.path("id").asText();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
      StringBuilder printed = new StringBuilder();
      while (true) {
        long left = deadline - System.nanoTime();
        SseEvent e = left <= 0 ? null : events.next(left);
        if (e == null) {
          if (printed.length() > 0) {
            out.println();
          }
          if (events.ended()) {
            err.printf("sg send: the gateway closed the event stream before the answer to %s arrived%n", id);
            return 5;
          }
          err.printf("sg send: no reply within %s s (message id %s); it will still be delivered to the channel's subscribers%n",
              waitSeconds, id);
          return 3;
        }
        JsonNode data = parse(e.data());
        if (!id.equals(data.path("in_reply_to").asText())) {
          continue; // another message's reply on this channel, or a reset of the whole stream
        }
        if (json && !e.name().equals("reset")) {
          out.println(e.data());
        }
        switch (e.name()) {
          case "delta" -> {
            if (!json) {
              out.print(data.path("content").asText());
              out.flush();
            }
            printed.append(data.path("content").asText());
          }
          case "tool_call" -> {
            if (!json) {
              err.printf("[tool %s]%n", data.path("content").asText());
            }
          }
          case "reset" -> {
            if (!json && printed.length() > 0) {
              out.println();
              err.println("[the answer is being produced again; starting over]");
            }
            printed.setLength(0);
          }
          default -> {
            if ("error".equals(data.path("type").asText())) {
              if (!json && printed.length() > 0) {
                out.println();
              }
              return errorReply(data, err);
            }
            if (!json) {
              String content = data.path("content").asText();
              if (printed.length() > 0 && content.startsWith(printed.toString())) {
                out.println(content.substring(printed.length()));
              } else {
                if (printed.length() > 0) {
                  out.println();
                }
                out.println(content);
              }
            }
            return 0;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 5;
    }
  }

  private static int errorReply(JsonNode reply, PrintStream err) {
    JsonNode e = reply.path("error");
    err.printf("sg send: the reply is an error: %s: %s%n", e.path("code").asText("error"),
        e.path("message").asText(reply.path("content").asText()));
    return ERROR_REPLY;
  }

  private static int refused(int status, JsonNode answer, String body, PrintStream err) {
    JsonNode e = answer.path("error");
    err.printf("sg send: the gateway answered %d: %s%n", status,
        e.isObject() ? e.path("code").asText() + ": " + e.path("message").asText() : body);
    return 4;
  }

  private static int unreachable(String base, IOException e, PrintStream err) {
    err.printf("sg send: cannot reach the gateway at %s: %s%n", base, e.getMessage() == null ? e.toString() : e.getMessage());
    err.println("Is it running? Start one with: bin/sg standalone");
    return 5;
  }

  private record SseEvent(String name, String data) {}

  /** Server-Sent Events read on a daemon thread into a queue. */
  private static final class EventStream implements AutoCloseable {
    private static final SseEvent END = new SseEvent("", "");
    private final InputStream body;
    private final BlockingQueue<SseEvent> queue = new LinkedBlockingQueue<>();
    private final CountDownLatch connected = new CountDownLatch(1);
    private volatile boolean ended;

    EventStream(InputStream body) {
      this.body = body;
      Thread t = new Thread(this::read, "sg-send-events");
      t.setDaemon(true);
      t.start();
    }

    private void read() {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
        String name = "message";
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
          if (line.isEmpty()) {
            if (data.length() > 0) {
              queue.add(new SseEvent(name, data.toString()));
            }
            name = "message";
            data.setLength(0);
          } else if (line.startsWith(":")) {
            connected.countDown();
          } else if (line.startsWith("event:")) {
            name = line.substring(6).trim();
          } else if (line.startsWith("data:")) {
            if (data.length() > 0) {
              data.append('\n');
            }
            data.append(line.substring(5).stripLeading());
          }
        }
      } catch (IOException e) {
        // cut or closed: the caller sees the end
      } finally {
        ended = true;
        connected.countDown();
        queue.add(END);
      }
    }

    boolean connected(Duration within) throws InterruptedException {
      return connected.await(within.toMillis(), TimeUnit.MILLISECONDS) && !ended;
    }

    /** The next event, or null after {@code nanos} or at the end of the stream. */
    SseEvent next(long nanos) throws InterruptedException {
      SseEvent e = queue.poll(nanos, TimeUnit.NANOSECONDS);
      if (e == END) {
        queue.add(END);
        return null;
      }
      return e;
    }

    boolean ended() {
      return ended;
    }

    @Override
    public void close() {
      try {
        body.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
  }

  private static JsonNode parse(String body) {
    try {
      return Json.readTree(body == null || body.isEmpty() ? "{}" : body);
    } catch (IOException e) {
      return Json.object();
    }
  }

  private static String firstKey(String keys) {
    if (keys == null) {
      return null;
    }
    for (String k : keys.split(",")) {
      if (!k.isBlank()) {
        return io.sgstreams.gateway.auth.ApiKeyAuth.keyOf(k.trim()); // 'tenant:key' entries send the key
      }
    }
    return null;
  }
}
