package io.sgstreams.worker.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.channel.ChannelOption;
import io.sgstreams.worker.internal.Json;
import io.sgstreams.worker.metrics.WorkerMetrics;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.util.retry.Retry;

/**
 * A minimal OpenAI-compatible {@code POST {base}/chat/completions} client on Reactor Netty:
 * non-blocking, a connect and a response timeout, a bounded response body, and a couple of
 * retries with backoff for 429 and 5xx answers.
 */
public final class OpenAiClient {
  /** Largest response body read; a bigger one is an error, not an unbounded buffer. */
  static final int MAX_RESPONSE_BYTES = 4 << 20;
  static final int RETRIES = 2;
  static final Duration FIRST_BACKOFF = Duration.ofMillis(200);

  private final HttpClient http;
  private final String url;
  private final Duration timeout;
  private final WorkerMetrics metrics;

  public OpenAiClient(String baseUrl, Optional<String> apiKey, Duration timeout, WorkerMetrics metrics) {
    this.url = baseUrl + "/chat/completions";
    this.timeout = timeout;
    this.metrics = metrics;
    this.http = HttpClient.create()
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(10_000, timeout.toMillis()))
        .responseTimeout(timeout)
        .headers(h -> {
          h.set("Content-Type", "application/json");
          h.set("Accept", "application/json");
          apiKey.ifPresent(k -> h.set("Authorization", "Bearer " + k));
        });
  }

  /**
   * Sends {@code request} with {@code stream: true} and emits the answer's chunks as they arrive
   * ({@code choices[0].delta} objects: {@code content} pieces and {@code tool_calls} fragments).
   * A server that ignores {@code stream} and answers one JSON completion is read as one chunk
   * (its {@code message} as the delta, marked {@code whole: true}: no delta replies are published for it). Errors before the first chunk (HTTP 429/5xx, refused
   * connections) are retried like {@link #chat}; once chunks flow, a failure ends the stream with
   * {@link OpenAiException}. {@code timeout} bounds the wait for each chunk, not the whole answer.
   */
  public Flux<JsonNode> stream(ObjectNode request) {
    return Flux.defer(() -> {
      java.util.concurrent.atomic.AtomicBoolean started = new java.util.concurrent.atomic.AtomicBoolean();
      return streamOnce(request.deepCopy().put("stream", true), started)
          .retryWhen(Retry.backoff(RETRIES, FIRST_BACKOFF)
              .filter(e -> !started.get() && e instanceof OpenAiException o && o.retryable())
              .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    });
  }

  private Flux<JsonNode> streamOnce(ObjectNode request, java.util.concurrent.atomic.AtomicBoolean started) {
    long start = System.nanoTime();
    byte[] body = Json.writeBytes(request);
    return http.headers(h -> h.set("Accept", "text/event-stream, application/json"))
        .post()
        .uri(url)
        .send(ByteBufFlux.fromString(Mono.just(new String(body, StandardCharsets.UTF_8))))
        .response((res, content) -> {
          int status = res.status().code();
          String type = res.responseHeaders().get("Content-Type", "");
          if (status / 100 != 2 || !type.startsWith("text/event-stream")) {
            // an error, or a server that answered one JSON completion
            return bounded(content).map(bytes -> parse(status, bytes)).flux()
                .map(msg -> (JsonNode) Json.object().put("whole", true).set("delta", msg));
          }
          SseLines lines = new SseLines();
          return content.asByteArray()
              .concatMapIterable(lines::feed)
              .concatWith(Flux.defer(() -> Flux.fromIterable(lines.finish())))
              .takeWhile(data -> !"[DONE]".equals(data))
              .filter(data -> !data.isEmpty())
              .map(OpenAiClient::chunk)
              .filter(c -> c.has("delta"));
        })
        .timeout(timeout)
        .doOnNext(c -> started.set(true))
        .onErrorMap(e -> !(e instanceof OpenAiException), e -> new OpenAiException(
            e instanceof TimeoutException || e.getClass().getSimpleName().contains("Timeout")
                ? "the model API sent nothing for " + timeout.toMillis() + " ms"
                : "cannot reach the model API: " + e.getMessage(), 0, e))
        .doOnComplete(() -> metrics.llmCall("ok", System.nanoTime() - start))
        .doOnError(e -> metrics.llmCall("error", System.nanoTime() - start));
  }

  /** One streamed chunk as {@code {delta, finish_reason}} of its first choice. */
  private static JsonNode chunk(String data) {
    JsonNode root;
    try {
      root = Json.readTree(data.getBytes(StandardCharsets.UTF_8));
    } catch (Exception e) {
      throw new OpenAiException("the model API streamed invalid JSON", 200, e);
    }
    JsonNode choice = root.path("choices").path(0);
    ObjectNode out = Json.object();
    if (choice.path("delta").isObject()) {
      out.set("delta", choice.get("delta"));
    }
    return out;
  }

  /** The URL requests go to. */
  public String url() {
    return url;
  }

  /**
   * Sends {@code request} and returns {@code choices[0].message}. Fails with
   * {@link OpenAiException} for an HTTP error (after the retries for 429/5xx), a timeout, or a
   * body that is not the expected JSON.
   */
  public Mono<JsonNode> chat(ObjectNode request) {
    return Mono.defer(() -> once(request))
        .retryWhen(Retry.backoff(RETRIES, FIRST_BACKOFF)
            .filter(e -> e instanceof OpenAiException o && o.retryable())
            .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
  }

  private Mono<JsonNode> once(ObjectNode request) {
    long start = System.nanoTime();
    byte[] body;
    try {
      body = Json.writeBytes(request);
    } catch (Exception e) {
      return Mono.error(new OpenAiException("cannot encode the request: " + e.getMessage(), 0, e));
    }
    return http.post()
        .uri(url)
        .send(ByteBufFlux.fromString(Mono.just(new String(body, StandardCharsets.UTF_8))))
        .response((res, content) -> bounded(content)
            .map(bytes -> parse(res.status().code(), bytes)))
        .next()
        .timeout(timeout.plusSeconds(1)) // the response timeout covers idle reads; this bounds the whole exchange
        .onErrorMap(e -> !(e instanceof OpenAiException), e -> new OpenAiException(
            e instanceof TimeoutException || e.getClass().getSimpleName().contains("Timeout")
                ? "the model API did not answer within " + timeout.toMillis() + " ms"
                : "cannot reach the model API: " + e.getMessage(), 0, e))
        .doOnSuccess(m -> metrics.llmCall("ok", System.nanoTime() - start))
        .doOnError(e -> metrics.llmCall("error", System.nanoTime() - start));
  }

  private static JsonNode parse(int status, byte[] bytes) {
    if (status / 100 != 2) {
      String snippet = new String(bytes, 0, Math.min(bytes.length, 200), StandardCharsets.UTF_8);
      throw new OpenAiException("the model API answered HTTP " + status + ": " + snippet, status, null);
    }
    JsonNode root;
    try {
      root = Json.readTree(bytes);
    } catch (Exception e) {
      throw new OpenAiException("the model API answered with invalid JSON", status, e);
    }
    JsonNode msg = root == null ? null : root.path("choices").path(0).path("message");
    if (msg == null || !msg.isObject()) {
      throw new OpenAiException("the model API answer has no choices[0].message", status, null);
    }
    return msg;
  }

  /** Collects the body chunk by chunk and fails as soon as it passes the bound. */
  private static Mono<byte[]> bounded(reactor.netty.ByteBufFlux content) {
    return content.asByteArray()
        .reduce(new ByteArrayOutputStream(), (acc, chunk) -> {
          if (acc.size() + chunk.length > MAX_RESPONSE_BYTES) {
            throw new OpenAiException("response body larger than " + MAX_RESPONSE_BYTES + " bytes", 0, null);
          }
          acc.writeBytes(chunk);
          return acc;
        })
        .map(ByteArrayOutputStream::toByteArray);
  }
}
