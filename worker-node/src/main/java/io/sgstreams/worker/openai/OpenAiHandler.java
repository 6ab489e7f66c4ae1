package io.sgstreams.worker.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.StreamException;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.worker.handlers.Inbound;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.worker.internal.Json;
import io.sgstreams.worker.tools.ToolCallException;
import io.sgstreams.worker.tools.ToolsClient;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Answers each inbound message with an OpenAI-compatible chat model. The model is offered the
 * built-in tools; its {@code tool_calls} are run through the {@link ToolsClient} (one at a time,
 * in order), their results appended as {@code role: tool} messages and the model asked again, up
 * to {@code SG_OPENAI_MAX_TOOL_ROUNDS} rounds. The final assistant content is the {@code message}
 * reply.
 *
 * <p>A model failure (HTTP error after retries, timeout, bad JSON, too many rounds) becomes an
 * {@code error} reply ({@code error: {code, message}} with a generic message: the model API's own
 * answer, which can quote keys, prompts or internals, goes to the log with the correlation id,
 * never to the user) and the entry is acknowledged: retrying it forever would not help. Only a
 * failure to publish a tool request (Redis) fails the handler, so the entry is redelivered.
 */
public final class OpenAiHandler implements Handler {
  private static final Logger log = LoggerFactory.getLogger(OpenAiHandler.class);

  private final OpenAiClient client;
  private final ToolsClient tools;
  private final WorkerConfig settings;
  private final ArrayNode toolDefs = ToolSchemas.builtIns();

  public OpenAiHandler(OpenAiClient client, ToolsClient tools, WorkerConfig settings) {
    this.client = client;
    this.tools = tools;
    this.settings = settings;
  }

  @Override
  public Mono<HandlerResult> handle(Delivery delivery) {
    return Mono.defer(() -> {
      InboundEnvelope in = Inbound.of(delivery); // Mono.defer turns its PermanentFailure into an error signal
      ArrayNode messages = Json.array();
      settings.openAiSystemPrompt().ifPresent(p -> messages.addObject().put("role", "system").put("content", p));
      messages.addObject().put("role", "user").put("content", in.content());
      return round(in, messages, 0)
          .map(text -> reply(in, OutboundEnvelope.TYPE_MESSAGE, text))
          .onErrorResume(e -> !(e instanceof StreamException), e -> {
            String code = e instanceof OpenAiException o ? o.code() : "assistant_error";
            log.warn("openai handler: error reply {} to {} (correlation {}, channel {}): {}", code, in.id(), in.correlationId(),
                in.channelId(), e.toString());
            return Mono.just(HandlerResult.of(Reply.outbound(OutboundEnvelope.error(in, code, userMessage(code)))));
          });
    });
  }

  /** One model call; recurses after running the tool calls it asked for. */
  private Mono<String> round(InboundEnvelope in, ArrayNode messages, int rounds) {
    ObjectNode req = Json.object();
    req.put("model", settings.openAiModel());
    req.set("messages", messages);
    req.set("tools", toolDefs);
    return client.chat(req).flatMap(msg -> {
      JsonNode calls = msg.path("tool_calls");
      if (!calls.isArray() || calls.isEmpty()) {
        JsonNode content = msg.path("content");
        return Mono.just(content.isTextual() ? content.asText() : "");
      }
      if (rounds >= settings.openAiMaxToolRounds()) {
        return Mono.error(new OpenAiException("the model asked for tools more than "
            + settings.openAiMaxToolRounds() + " times", 0, null, OpenAiException.TOOL_ROUNDS));
      }
      messages.add(msg);
      return Flux.fromIterable(calls)
          .concatMap(call -> runTool(in, call).doOnNext(messages::add))
          .then(Mono.defer(() -> round(in, messages, rounds + 1)));
    });
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

  /** What the user reads: the same few sentences whatever the model API said. */
  static String userMessage(String code) {
    return switch (code) {
      case "upstream_busy" -> "the assistant is busy; please try again in a moment";
      case OpenAiException.TOOL_ROUNDS -> "the assistant needed too many tool calls to answer";
      default -> "the assistant could not answer right now; please try again later";
    };
  }

  private static HandlerResult reply(InboundEnvelope in, String type, String content) {
    return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, type, content)));
  }
}
