package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.Middleware;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeException;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.trace.TraceParent;
import java.util.Map;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * Makes this hop's span for each message: the handler sees the envelope with its
 * {@code traceparent} header replaced by a child (same trace id, a new span id whose parent is the
 * incoming one). The envelope factories copy {@code headers} into replies and tool requests
 * ({@code OutboundEnvelope.replyTo}, {@code ToolReply.success}, the tools client), so everything
 * the handler sends on carries this hop's span without the handler knowing about tracing.
 *
 * <p>An envelope without a valid {@code traceparent} (a foreign publisher) is handed on unchanged:
 * a trace starts at the edge. The child is made once per delivery, not per {@code envelope()} call,
 * so a retry (resubscription) keeps the span of the delivery.
 */
final class TraceSpan implements Middleware {
  @Override
  public Handler wrap(Handler next) {
    return d -> {
      if (d.decodeError().isPresent()) {
        return next.handle(d);
      }
      Envelope env = d.envelope();
      TraceParent span = TraceParent.childOf(env.headers());
      return span == null ? next.handle(d) : next.handle(new Spanned(d, withSpan(env, span)));
    };
  }

  static Envelope withSpan(Envelope env, TraceParent span) {
    Map<String, String> h = TraceParent.withSpan(env.headers(), span);
    if (env instanceof InboundEnvelope e) {
      return e.withHeaders(h);
    }
    if (env instanceof OutboundEnvelope e) {
      return e.withHeaders(h);
    }
    if (env instanceof ToolRequest e) {
      return e.withHeaders(h);
    }
    return ((ToolReply) env).withHeaders(h);
  }

  /** The delivery with the envelope of this hop's span; everything else is the original's. */
  private static final class Spanned implements Delivery {
    private final Delivery d;
    private final Envelope env;

    Spanned(Delivery d, Envelope env) {
      this.d = d;
      this.env = env;
    }

    @Override public Envelope envelope() { return env; }
    @Override public String stream() { return d.stream(); }
    @Override public String group() { return d.group(); }
    @Override public String consumer() { return d.consumer(); }
    @Override public String id() { return d.id(); }
    @Override public long deliveryCount() { return d.deliveryCount(); }
    @Override public boolean redelivered() { return d.redelivered(); }
    @Override public Map<String, byte[]> fields() { return d.fields(); }
    @Override public byte[] data() { return d.data(); }
    @Override public String traceId() { return d.traceId(); }
    @Override public Optional<EnvelopeException> decodeError() { return d.decodeError(); }
    @Override public Mono<Void> ack() { return d.ack(); }
    @Override public Mono<Void> deadLetter(Throwable cause) { return d.deadLetter(cause); }
    @Override public void release() { d.release(); }
    @Override public boolean settled() { return d.settled(); }
    @Override public Mono<String> emit(Reply reply) { return d.emit(reply); }
    @Override public boolean lost() { return d.lost(); }
    @Override public Mono<Boolean> whenLost() { return d.whenLost(); }

    @Override
    public String toString() {
      return d.toString();
    }
  }
}
