package io.sgstreams.launcher;

import io.sgstreams.core.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sg send TEXT}: posts one message to a gateway, waits for the reply and prints it. */
@Command(name = "send", usageHelpAutoWidth = true, sortOptions = false,
    description = {"Posts a message to a running gateway and prints the reply.",
        "POST /v1/messages?wait=SECONDS with TEXT as the content; prints the reply's content."},
    footer = {"", "Exit status: 0 reply printed (or accepted with --wait 0), 2 usage error, 3 no reply in time, "
        + "4 the gateway refused the message, 5 the gateway could not be reached."})
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

  @Option(names = "--api-key", paramLabel = "KEY", description = "API key (default: $SG_API_KEY, else the first of $SG_API_KEYS)")
  String apiKey;

  @Option(names = "--json", description = "print the gateway's JSON answer instead of the content")
  boolean json;


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
        return k.trim();
      }
    }
    return null;
  }
}
