package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.Map;

/** {@code sg send TEXT}: posts one message to a gateway, waits for the reply and prints it. */
final class SendCommand {
  static final String HELP = """
      usage: sg send TEXT [--channel C] [--user U] [--platform P] [--wait SECONDS] [--url URL] [--api-key KEY] [--json]

      Posts TEXT to a gateway (POST /v1/messages?wait=SECONDS) and prints the reply's content.
        --channel C     conversation id (default: cli)
        --user U        user id (default: $USER, else cli)
        --platform P    platform (default: web)
        --wait S        seconds to wait for the reply (default 10; 0 = don't wait, print the ids)
        --url URL       gateway base URL (default: $SG_GATEWAY_URL, else http://127.0.0.1:$SG_HTTP_PORT or :8080)
        --api-key KEY   API key (default: $SG_API_KEY, else the first of $SG_API_KEYS)
        --json          print the gateway's JSON answer instead of the content
      Exit status: 0 reply printed (or accepted with --wait 0), 3 no reply in time, 4 the gateway
      refused the message, 5 the gateway could not be reached.
      """;

  private static final ObjectMapper JSON = new ObjectMapper();

  private SendCommand() {}

  static int run(Cli cli, Map<String, String> env, PrintStream out, PrintStream err) {
    if (cli.positionals().isEmpty()) {
      throw new Cli.UsageException("sg send needs the message text");
    }
    String text = String.join(" ", cli.positionals());
    double waitS = cli.number("wait", 10);
    if (waitS < 0) {
      throw new Cli.UsageException("--wait must not be negative");
    }
    String base = cli.option("url", env.getOrDefault("SG_GATEWAY_URL",
        "http://127.0.0.1:" + env.getOrDefault("SG_HTTP_PORT", "8080")));
    String key = cli.option("api-key", env.getOrDefault("SG_API_KEY", firstKey(env.get("SG_API_KEYS"))));

    ObjectNode body = JSON.createObjectNode();
    body.put("platform", cli.option("platform", "web"));
    body.put("channel_id", cli.option("channel", "cli"));
    body.put("user_id", cli.option("user", env.getOrDefault("USER", "cli")));
    body.put("content", text);

    long waitWhole = (long) Math.ceil(waitS);
    String url = base.replaceAll("/+$", "") + "/v1/messages" + (waitWhole > 0 ? "?wait=" + URLEncoder.encode(Long.toString(waitWhole), StandardCharsets.UTF_8) : "");
    HttpRequest.Builder req;
    try {
      req = HttpRequest.newBuilder(URI.create(url));
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
    JsonNode json = parse(res.body());
    if (cli.flag("json")) {
      out.println(res.body());
    }
    int status = res.statusCode();
    if (status == 200) {
      if (!cli.flag("json")) {
        out.println(json.path("content").asText(res.body()));
      }
      return 0;
    }
    if (status == 202) {
      if (!cli.flag("json")) {
        out.printf("accepted: id %s, correlation_id %s%n", json.path("id").asText(), json.path("correlation_id").asText());
      }
      return 0;
    }
    if (status == 504) {
      err.printf("sg send: no reply within %s s (message id %s); it will still be delivered to the channel's subscribers%n",
          waitWhole, json.path("id").asText("?"));
      return 3;
    }
    JsonNode e = json.path("error");
    err.printf("sg send: the gateway answered %d: %s%n", status,
        e.isObject() ? e.path("code").asText() + ": " + e.path("message").asText() : res.body());
    return 4;
  }

  private static JsonNode parse(String body) {
    try {
      return JSON.readTree(body == null || body.isEmpty() ? "{}" : body);
    } catch (IOException e) {
      return JSON.createObjectNode();
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
