package io.sgstreams.worker.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.StreamException;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.resilience.Guard;
import io.sgstreams.worker.handlers.Inbound;
import io.sgstreams.worker.internal.Json;
import io.sgstreams.worker.tools.ToolCallException;
import io.sgstreams.worker.tools.ToolsClient;
import io.sgstreams.core.trace.LogContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Answers each inbound message with an OpenAI-compatible chat model, streamed.
 *
 * <ul>
 *   <li>The model gets the system prompt, the last turns of the conversation
 *       ({@link ConversationMemory}: tenant, platform, channel) and the message, and is offered the
 *       built-in tools.
 *   <li>It is asked with {@code stream: true}; the text is published as it arrives as
 *       {@code delta} replies ({@code seq} from 0, the text since the previous delta, the delivery
 *       attempt), at most one per {@code SG_STREAM_DELTA_MS} or per {@code SG_STREAM_DELTA_TOKENS}
 *       chunks, so a long answer is tens of XADDs, not thousands. They are emitted through the
 *       delivery, so the entry is acknowledged only after all of them and the final reply are
 *       written.
 *   <li>{@code tool_calls} are announced with a {@code tool_call} event naming the tool, run through
 *       the {@link ToolsClient} (one at a time, in order), their results given to the model, and
 *       the model asked again, up to {@code SG_OPENAI_MAX_TOOL_ROUNDS} rounds.
 *   <li>The final {@code message} carries the whole answer (all deltas concatenated); the turn is
 *       then remembered.
 * </ul>
 *
 * <p>Calls to the model go through a circuit breaker and a bulkhead ({@link Guard}, the
 * {@code resilience} settings): during an outage the breaker opens and messages are answered at
 * once with {@code upstream_unavailable} instead of each waiting out timeouts and retries.
 *
 * <p>A model failure (HTTP error after retries, a timeout, bad JSON, too many rounds) becomes an
 * {@code error} reply with a code and a message for users (details only in the log, with the
 * correlation id) and the entry is acknowledged: retrying it forever would not help. Only a
 * failure to publish (Redis) fails the handler, so the entry is redelivered; a rerun streams a new
 * generation (its deltas carry the new attempt).
 */
public final class OpenAiHandler implements Handler {
  private static final Logger log = LoggerFactory.getLogger(OpenAiHandler.class);

  private final OpenAiClient client;
  private final ToolsClient tools;
  private final WorkerConfig settings;
  private final ConversationMemory memory;
  private final Guard model;
  private final ArrayNode toolDefs = ToolSchemas.builtIns();

  /**
   * @param model the circuit breaker and bulkhead around the model API: while the breaker is open,
   *     messages are answered at once with an {@code upstream_unavailable} error reply
   */
  public OpenAiHandler(OpenAiClient client, ToolsClient tools, WorkerConfig settings, ConversationMemory memory,
      Guard model) {
    this.client = client;
    this.tools = tools;
    this.settings = settings;
    this.memory = memory;
    this.model = model;
  }

  @Override
  public Mono<HandlerResult> handle(Delivery delivery) {
    return Mono.defer(() -> {
      InboundEnvelope in = Inbound.of(delivery); // Mono.defer turns its PermanentFailure into an error signal
      Answer answer = new Answer(delivery, in);
      return memory.recall(in)
          .flatMap(history -> {
            ArrayNode messages = Json.array();
            settings.openAiSystemPrompt().ifPresent(p -> messages.addObject().put("role", "system").put("content", p));
            history.forEach(messages::add);
            messages.addObject().put("role", "user").put("content", in.content());
            return round(answer, messages, 0);
          })
          .then(Mono.defer(() -> memory.remember(in, answer.text())))
          .then(Mono.fromCallable(() -> HandlerResult.of(Reply.outbound(
              OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, answer.text())))))
          .onErrorResume(e -> !(e instanceof StreamException), e -> {
            String code = code(e);
            try (var ctx = LogContext.of(in)) {
              log.warn("openai handler: error reply {} to {} (correlation_id {}, channel {}): {}", code, in.id(),
                  in.correlationId(), in.channelId(), e.toString());
            }
            return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.error(in, code, userMessage(code)))));
          });
    });
  }

  /** One streamed model call; recurses after running the tool calls it asked for. */
  private Mono<Void> round(Answer answer, ArrayNode messages, int rounds) {
    ObjectNode req = Json.object();
    req.put("model", settings.openAiModel());
    req.set("messages", messages);
    req.set("tools", toolDefs);
    Round round = new Round();
    java.util.concurrent.atomic.AtomicBoolean whole = new java.util.concurrent.atomic.AtomicBoolean();
    return model.flux(client.stream(req))
        .map(chunk -> {
          if (chunk.path("whole").asBoolean()) {
            whole.set(true); // a server that does not stream: the final message alone carries the answer
          }
          return round.absorb(chunk.path("delta"));
        })
        .filter(text -> !text.isEmpty())
        .bufferTimeout(settings.streamDeltaTokens(), settings.streamDelta())
        .doOnNext(pieces -> answer.delta(String.join("", pieces), !whole.get()))
        .then(Mono.defer(() -> {
          List<ObjectNode> calls = round.toolCalls();
          if (calls.isEmpty()) {
            return Mono.empty();
          }
          if (rounds >= settings.openAiMaxToolRounds()) {
            return Mono.error(new OpenAiException("the model asked for tools more than "
                + settings.openAiMaxToolRounds() + " times", 0, null, OpenAiException.TOOL_ROUNDS));
          }
          ObjectNode assistant = messages.addObject().put("role", "assistant");
          if (!round.text().isEmpty()) {
            assistant.put("content", round.text());
          } else {
            assistant.putNull("content");
          }
          ArrayNode tc = assistant.putArray("tool_calls");
          calls.forEach(tc::add);
          return Flux.fromIterable(calls)
              .concatMap(call -> {
                answer.toolCall(call.path("function").path("name").asText(""));
                return runTool(answer.in(), call).doOnNext(messages::add);
              })
              .then(Mono.defer(() -> round(answer, messages, rounds + 1)));
        }));
  }

  /** The {@code role: tool} message answering one tool call; tool failures are told to the model. */
  private Mono<ObjectNode> runTool(InboundEnvelope in, JsonNode call) {
    String id = call.path("id").asText("");
    String name = call.path("function").path("name").asText("");
    String argText = call.path("function").path("arguments").asText("");
    Map<String, Object> args;
    try {
      args = Json.parseObject(argText);
    } catch (IllegalArgumentException e) {
      return Mono.just(toolMessage(id, Json.render(Map.of("error", "bad_arguments", "message", e.getMessage()))));
    }
    Duration timeout = settings.toolCallTimeout();
    return tools.callTool(name, args, timeout, in)
        .map(r -> toolMessage(id, render(r)))
        .onErrorResume(ToolCallException.class,
            e -> Mono.just(toolMessage(id, Json.render(Map.of("error", e.code(), "message", e.getMessage())))));
  }

  private static String render(ToolReply r) {
    if (r.ok()) {
      return Json.render(r.result());
    }
    return Json.render(Map.of("error", r.error().code(), "message", r.error().message() == null ? "" : r.error().message()));
  }

  private static ObjectNode toolMessage(String callId, String content) {
    ObjectNode m = Json.object();
    m.put("role", "tool");
    m.put("tool_call_id", callId);
    m.put("content", content);
    return m;
  }

  /** A stable code for the client: what kind of failure, never its details. */
  static String code(Throwable e) {
    if (e instanceof Guard.Refused) {
      return "upstream_unavailable";
    }
    if (e instanceof OpenAiException o) {
      if (o.getMessage() != null && o.getMessage().contains("sent nothing for")) {
        return "upstream_timeout";
      }
      return o.code();
    }
    return "assistant_error";
  }

  /** What the user reads: the same few sentences whatever the model API said. */
  static String userMessage(String code) {
    return switch (code) {
      case "upstream_timeout" -> "the assistant took too long to answer; please try again";
      case "upstream_busy" -> "the assistant is busy; please try again in a moment";
      case "upstream_unavailable" -> "the assistant is unavailable right now; please try again later";
      case OpenAiException.TOOL_ROUNDS -> "the assistant needed too many tool calls to answer";
      default -> "the assistant could not answer; please try again";
    };
  }

  /** The answer being produced: its deltas and events, numbered, and the whole text so far. */
  private static final class Answer {
    private final Delivery delivery;
    private final InboundEnvelope in;
    private final int attempt;
    private final StringBuilder text = new StringBuilder();
    private int deltas;
    private int toolCalls;

    Answer(Delivery delivery, InboundEnvelope in) {
      this.delivery = delivery;
      this.in = in;
      this.attempt = (int) Math.min(Integer.MAX_VALUE, Math.max(1, delivery.deliveryCount()));
    }

    InboundEnvelope in() {
      return in;
    }

    synchronized void delta(String piece, boolean publish) {
      text.append(piece);
      if (publish) {
        delivery.emit(Reply.outbound(OutboundEnvelope.delta(in, attempt, deltas++, piece)));
      }
    }

    synchronized void toolCall(String tool) {
      delivery.emit(Reply.outbound(OutboundEnvelope.progress(in, OutboundEnvelope.TYPE_TOOL_CALL, attempt, toolCalls++, tool)));
    }

    synchronized String text() {
      return text.toString();
    }
  }

  /** One model call's stream: its text and the tool calls assembled from their fragments. */
  private static final class Round {
    private final StringBuilder text = new StringBuilder();
    private final TreeMap<Integer, ObjectNode> calls = new TreeMap<>();

    /** Takes one {@code delta}; returns its text piece ("" when none). */
    synchronized String absorb(JsonNode delta) {
      JsonNode fragments = delta.path("tool_calls");
      if (fragments.isArray()) {
        for (JsonNode f : fragments) {
          int index = f.path("index").asInt(calls.size());
          ObjectNode call = calls.computeIfAbsent(index, i -> {
            ObjectNode c = Json.object().put("type", "function");
            c.putObject("function").put("name", "").put("arguments", "");
            return c;
          });
          if (f.path("id").isTextual()) {
            call.put("id", f.get("id").asText());
          }
          ObjectNode fn = (ObjectNode) call.get("function");
          JsonNode ff = f.path("function");
          if (ff.path("name").isTextual()) {
            fn.put("name", fn.get("name").asText() + ff.get("name").asText());
          }
          if (ff.path("arguments").isTextual()) {
            fn.put("arguments", fn.get("arguments").asText() + ff.get("arguments").asText());
          }
        }
      }
      JsonNode content = delta.path("content");
      String piece = content.isTextual() ? content.asText() : "";
      text.append(piece);
      return piece;
    }

    synchronized String text() {
      return text.toString();
    }

    synchronized List<ObjectNode> toolCalls() {
      return new ArrayList<>(calls.values());
    }
  }
}
