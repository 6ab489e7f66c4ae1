package io.sgstreams.worker.handlers;

import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.worker.internal.Json;
import io.sgstreams.worker.tools.ToolCallException;
import io.sgstreams.worker.tools.ToolsClient;
import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * The wire contract's {@code echo} handler: one outbound {@code message} to the inbound's platform
 * stream with the same content, {@code in_reply_to} = the inbound id, same correlation and
 * channel. Content {@code /tool NAME JSON-ARGS} instead calls that tool and replies with its
 * result as JSON, or with an {@code error} reply carrying the tool's error code and message.
 * A tool that does not answer in time is an {@code error} reply too; only a failure to publish
 * the request fails the handler (the entry is then retried).
 */
public final class EchoHandler implements Handler {
  private final ToolsClient tools;
  private final Duration toolTimeout;

  public EchoHandler(ToolsClient tools, Duration toolTimeout) {
    this.tools = tools;
    this.toolTimeout = toolTimeout;
  }

  @Override
  public Mono<HandlerResult> handle(Delivery delivery) {
    return Mono.defer(() -> {
      InboundEnvelope in = Inbound.of(delivery); // Mono.defer turns its PermanentFailure into an error signal
      return ToolCommand.parse(in.content())
          .map(cmd -> runTool(in, cmd))
          .orElseGet(() -> Mono.just(reply(in, OutboundEnvelope.TYPE_MESSAGE, in.content())));
    });
  }

  private Mono<HandlerResult> runTool(InboundEnvelope in, ToolCommand cmd) {
    if (cmd.error() != null) {
      return Mono.just(reply(in, OutboundEnvelope.TYPE_ERROR, "bad_arguments: " + cmd.error()));
    }
    return tools.callTool(cmd.tool(), cmd.args(), toolTimeout, in)
        .map(r -> render(in, r))
        .onErrorResume(ToolCallException.class,
            e -> Mono.just(reply(in, OutboundEnvelope.TYPE_ERROR, e.code() + ": " + e.getMessage())));
  }

  private static HandlerResult render(InboundEnvelope in, ToolReply r) {
    if (r.ok()) {
      return reply(in, OutboundEnvelope.TYPE_MESSAGE, Json.render(r.result()));
    }
    String code = r.error() == null ? "tool_error" : r.error().code();
    String msg = r.error() == null ? "" : r.error().message();
    return reply(in, OutboundEnvelope.TYPE_ERROR, code + ": " + msg);
  }

  private static HandlerResult reply(InboundEnvelope in, String type, String content) {
    return HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, type, content)));
  }
}
