package io.sgstreams.tools.internal;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeTooLargeException;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.topology.StreamKeys;
import io.sgstreams.tools.BadArgumentsException;
import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import io.sgstreams.tools.ToolRegistry;
import io.sgstreams.core.trace.LogContext;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The tools node's handler: turns every tool request into exactly one tool reply on its
 * {@code reply_to} stream.
 *
 * <p>Everything that is the request's or the tool's fault is a reply (unknown tool, bad
 * arguments, timeout, exception, expired deadline), so the entry is acknowledged. What no reply
 * can answer is a {@link PermanentFailure} (dead-lettered at once): another kind of envelope, a
 * {@code reply_to} outside the tools reply streams. A failed reply publish is left to the core
 * Router: the entry stays pending, is retried, and is dead-lettered after the delivery limit;
 * a retry runs the tool again (at-least-once).
 */
public final class ToolDispatcher implements Handler {
  private static final Logger log = LoggerFactory.getLogger(ToolDispatcher.class);

  private final RedisEventBus bus;
  private final ToolRegistry tools;
  private final Duration defaultTimeout;
  private final Duration replyStreamTtl;
  private final ToolMetrics metrics;
  private final Clock clock;
  private final String replyPrefix;

  /**
   * @param defaultTimeout for tools that declare none
   * @param replyStreamTtl expiry given to a reply stream that has none (`streams.tools_reply_ttl_ms`)
   */
  public ToolDispatcher(RedisEventBus bus, ToolRegistry tools, Duration defaultTimeout, Duration replyStreamTtl,
      ToolMetrics metrics, Clock clock) {
    this.bus = bus;
    this.tools = tools;
    this.defaultTimeout = defaultTimeout;
    this.replyStreamTtl = replyStreamTtl;
    this.metrics = metrics;
    this.clock = clock;
    this.replyPrefix = bus.topology().toolsReplyPrefix() + StreamKeys.SEPARATOR;
  }

  @Override
  public Mono<HandlerResult> handle(Delivery d) {
    return Mono.defer(() -> {
      Envelope env = d.envelope();
      if (!(env instanceof ToolRequest req)) {
        return Mono.error(new PermanentFailure("entry " + d.id() + " on " + d.stream() + " is a "
            + env.kind().wire() + " envelope; the tools stream carries only tool_request"));
      }
      String replyTo = checkReplyTo(req, d);
      return execute(req)
          .flatMap(reply -> publish(replyTo, reply, req))
          .thenReturn(HandlerResult.none());
    });
  }

  /** Runs the call and builds its reply; never fails (every error becomes a failure reply). */
  public Mono<ToolReply> execute(ToolRequest req) {
    return Mono.defer(() -> {
      long start = System.nanoTime();
      long now = clock.millis();
      Optional<Tool> found = tools.find(req.tool());
      String tag = found.isPresent() ? req.tool() : ToolMetrics.UNKNOWN;
      if (req.deadline() != null && now >= req.deadline()) {
        return done(req, tag, start, Outcome.DEADLINE_EXCEEDED,
            "the deadline passed " + (now - req.deadline()) + " ms before the call could start");
      }
      if (found.isEmpty()) {
        return done(req, tag, start, Outcome.UNKNOWN_TOOL,
            "unknown tool '" + req.tool() + "'; known tools: " + String.join(", ", tools.names()));
      }
      Tool tool = found.get();
      Duration own = tool.timeout();
      Duration limit = own != null && own.compareTo(Duration.ZERO) > 0 ? own : defaultTimeout;
      boolean deadlineFirst = false;
      if (req.deadline() != null && req.deadline() - now < limit.toMillis()) {
        limit = Duration.ofMillis(req.deadline() - now);
        deadlineFirst = true;
      }
      Duration timeout = limit;
      boolean byDeadline = deadlineFirst;
      ToolContext ctx = ToolContext.of(req, clock);
      return Mono.defer(() -> {
            ArgsSchema.check(tool.parametersSchema(), req.args());
            return tool.call(req.args(), ctx);
          })
          .map(Optional::ofNullable)
          .defaultIfEmpty(Optional.empty())
          .timeout(timeout, Mono.error(new TimedOut()))
          .flatMap(result -> {
            ToolReply reply;
            try {
              reply = ToolReply.success(req, result.orElse(null));
            } catch (IllegalArgumentException e) {
              return done(req, tag, start, Outcome.TOOL_ERROR,
                  "tool '" + tool.name() + "' returned a value that cannot be sent: " + e.getMessage());
            }
            metrics.record(tag, Outcome.OK, System.nanoTime() - start);
            return Mono.just(reply);
          })
          .onErrorResume(e -> {
            if (e instanceof TimedOut) {
              return byDeadline
                  ? done(req, tag, start, Outcome.DEADLINE_EXCEEDED, "the deadline passed while '" + tool.name() + "' was running (" + timeout.toMillis() + " ms)")
                  : done(req, tag, start, Outcome.TIMEOUT, "tool '" + tool.name() + "' took longer than its timeout of " + timeout.toMillis() + " ms");
            }
            if (e instanceof BadArgumentsException) {
              return done(req, tag, start, Outcome.BAD_ARGUMENTS, e.getMessage() == null ? "bad arguments" : e.getMessage());
            }
            try (var logCtx = LogContext.of(req)) {
              log.debug("tool {} failed for request {}", tool.name(), req.id(), e);
            }
            return done(req, tag, start, Outcome.TOOL_ERROR, e.getMessage() != null ? e.getMessage() : e.toString());
          });
    });
  }

  private Mono<ToolReply> done(ToolRequest req, String tag, long start, Outcome outcome, String message) {
    metrics.record(tag, outcome, System.nanoTime() - start);
    return Mono.just(ToolReply.failure(req, outcome.code(), message));
  }

  private Mono<String> publish(String replyTo, ToolReply reply, ToolRequest req) {
    return bus.publishToolsReply(replyTo, reply)
        // A result over the envelope limit can never be sent; the caller still gets an answer.
        .onErrorResume(EnvelopeTooLargeException.class, e -> bus.publishToolsReply(replyTo,
            ToolReply.failure(req, Outcome.TOOL_ERROR.code(), "the result of '" + req.tool() + "' is too large to send: " + e.getMessage())))
        .flatMap(id -> expireIfOrphan(replyTo).thenReturn(id));
  }

  /**
   * XADD recreates a reply stream that expired with its worker; {@code PEXPIRE … NX} makes such a
   * stream go away again, and leaves a live worker's own expiry alone. The reply is already
   * published, so a failure here is only logged (a retry would duplicate the reply).
   */
  private Mono<Void> expireIfOrphan(String replyTo) {
    return bus.expireIfUnset(replyTo, replyStreamTtl)
        .onErrorResume(e -> {
          log.warn("could not set the expiry of reply stream {}: {}", replyTo, e.toString());
          return Mono.empty();
        })
        .then();
  }

  private String checkReplyTo(ToolRequest req, Delivery d) {
    String replyTo = req.replyTo();
    if (replyTo == null || replyTo.isBlank()) {
      throw new PermanentFailure("tool request " + req.id() + " (entry " + d.id() + ") has no reply_to; it cannot be answered");
    }
    // Only reply streams: a request must not make this node write into other streams.
    if (!replyTo.startsWith(replyPrefix) || !validSegment(replyTo.substring(replyPrefix.length()))) {
      throw new PermanentFailure("tool request " + req.id() + " (entry " + d.id() + ") has reply_to '" + replyTo
          + "', which is not a tools reply stream (" + replyPrefix + "{worker_id})");
    }
    return replyTo;
  }

  private static boolean validSegment(String s) {
    try {
      StreamKeys.requireSegment(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** Our own timeout signal, so a TimeoutException thrown inside a tool stays a tool_error. */
  private static final class TimedOut extends RuntimeException {
    TimedOut() {
      super(null, null, false, false);
    }
  }
}
