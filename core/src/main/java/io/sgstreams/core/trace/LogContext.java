package io.sgstreams.core.trace;

import io.sgstreams.core.envelope.Envelope;
import org.slf4j.MDC;

/**
 * Puts the fields that tie a log line to a message into the SLF4J MDC for the lines written
 * inside a {@code try (var ignored = LogContext.of(env)) { log.warn(...); }} block:
 * {@value #TRACE_ID}, {@value #CORRELATION_ID}, {@value #TENANT_ID} and {@value #NODE}. With
 * {@code SG_LOG_FORMAT=json} they become fields of the JSON log line.
 *
 * <p>The MDC is a thread-local and Reactor hops threads, so the context is set around each log
 * statement about a message, never left on a thread across an asynchronous boundary: closing it
 * puts back whatever the thread had before.
 */
public final class LogContext implements AutoCloseable {
  public static final String TRACE_ID = "trace_id";
  public static final String CORRELATION_ID = "correlation_id";
  public static final String TENANT_ID = "tenant_id";
  public static final String NODE = "node";
  private static final String[] KEYS = {TRACE_ID, CORRELATION_ID, TENANT_ID, NODE};
  private static final LogContext NONE = new LogContext(null);

  private static volatile String node;

  private final String[] previous;

  private LogContext(String[] previous) {
    this.previous = previous;
  }

  /** The node id ({@code SG_NODE_ID}, else the host name) that every message's log lines name; set once at start. */
  public static void node(String nodeId) {
    node = nodeId;
  }

  /** The fields of {@code env} (its trace, correlation id and tenant); {@code env} may be null (only {@code node} is set). */
  public static LogContext of(Envelope env) {
    if (env == null) {
      return of(null, null, null);
    }
    TraceParent tp = TraceParent.from(env.headers());
    return of(tp == null ? null : tp.traceId(), env.correlationId(), env.tenant());
  }

  /** Explicit fields (null ones are left unset), for log lines about a message before or without its envelope. */
  public static LogContext of(String traceId, String correlationId, String tenantId) {
    String[] values = {traceId, correlationId, tenantId, node};
    String[] prev = null;
    for (int i = 0; i < KEYS.length; i++) {
      if (values[i] == null) {
        continue;
      }
      if (prev == null) {
        prev = new String[KEYS.length * 2];
      }
      prev[2 * i] = KEYS[i]; // marks the key as set by us
      prev[2 * i + 1] = MDC.get(KEYS[i]);
      MDC.put(KEYS[i], values[i]);
    }
    return prev == null ? NONE : new LogContext(prev);
  }

  /** Restores the fields this context set to what they were before. */
  @Override
  public void close() {
    if (previous == null) {
      return;
    }
    for (int i = 0; i < previous.length; i += 2) {
      if (previous[i] == null) {
        continue;
      }
      if (previous[i + 1] == null) {
        MDC.remove(previous[i]);
      } else {
        MDC.put(previous[i], previous[i + 1]);
      }
    }
  }
}
