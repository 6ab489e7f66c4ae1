package io.sgstreams.tools;

import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/**
 * A tool the tools node runs on behalf of workers. Built-ins are {@code echo}, {@code clock} and
 * {@code calc}; user tools are discovered with {@link java.util.ServiceLoader} from
 * {@code META-INF/services/io.sgstreams.tools.Tool} (public no-argument constructor).
 *
 * <p>{@link #call} must not block: it runs on an I/O thread. Wrap blocking work in
 * {@code Mono.fromCallable(...).subscribeOn(Schedulers.boundedElastic())}. It should be lazy
 * (no work before subscription) and may be cancelled when it outlives its timeout.
 *
 * <p>How a failure reaches the worker: throw (or emit) {@link BadArgumentsException} for
 * arguments the tool cannot use ({@code bad_arguments}); any other exception becomes
 * {@code tool_error} with its message; outliving {@link #timeout()} becomes {@code timeout}.
 */
public interface Tool {
  /** Unique name workers call it by: 1-64 characters of {@code [A-Za-z0-9_-]} (valid as an LLM function name). */
  String name();

  /** One sentence for humans and LLMs. */
  String description();

  /**
   * JSON schema of the {@code args} map ({@code {"type":"object","properties":{…},"required":[…]}}),
   * offered to LLMs as the function's parameters.
   */
  Map<String, Object> parametersSchema();

  /** Runs the tool. The result must be a MessagePack-encodable value (null, boolean, number, string, bytes, list, map). */
  Mono<Object> call(Map<String, Object> args, ToolContext ctx);

  /** How long one call may take; null (the default) means the node's {@code tools.timeout_ms} ({@code SG_TOOL_TIMEOUT_MS}). */
  default Duration timeout() {
    return null;
  }
}
