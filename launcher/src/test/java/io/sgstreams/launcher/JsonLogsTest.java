package io.sgstreams.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.classic.joran.JoranConfigurator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.trace.LogContext;
import io.sgstreams.core.trace.TraceParent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/**
 * The runtime logback.xml (launcher/src/main/resources) run programmatically: {@code SG_LOG_FORMAT=json}
 * gives one JSON object per line with the message's MDC fields; the default stays plain text.
 */
class JsonLogsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void jsonFormatWritesOneObjectPerLineWithTheMessageFields() throws Exception {
    TraceParent tp = TraceParent.generate();
    InboundEnvelope in = InboundEnvelope.create("web", "c1", "u1", "hi")
        .withTenant("acme").withHeader(TraceParent.HEADER, tp.header());
    List<String> lines = run("json", ctx -> {
      LogContext.node("node-7");
      var log = ctx.getLogger("io.sgstreams.test.Handling");
      try (var c = LogContext.of(in)) {
        log.warn("handler failed for {}", in.id(), new IllegalStateException("boom\nsecond line"));
      }
      log.info("no message here");
    });
    assertEquals(2, lines.size(), "one line per event, even with a multi-line exception: " + lines);
    JsonNode first = JSON.readTree(lines.get(0));
    assertEquals("WARN", first.get("level").asText());
    assertEquals("io.sgstreams.test.Handling", first.get("loggerName").asText());
    assertEquals("handler failed for " + in.id(), first.get("formattedMessage").asText());
    assertTrue(first.get("timestamp").asLong() > 0);
    assertEquals(Thread.currentThread().getName(), first.get("threadName").asText());
    assertEquals("boom\nsecond line", first.get("throwable").get("message").asText());
    JsonNode mdc = first.get("mdc");
    assertEquals(tp.traceId(), mdc.get("trace_id").asText());
    assertEquals(in.correlationId(), mdc.get("correlation_id").asText());
    assertEquals("acme", mdc.get("tenant_id").asText());
    assertEquals("node-7", mdc.get("node").asText());

    JsonNode second = JSON.readTree(lines.get(1));
    assertEquals("no message here", second.get("formattedMessage").asText());
    JsonNode mdc2 = second.get("mdc");
    assertTrue(mdc2 == null || mdc2.get("trace_id") == null, "the context ends with its block: " + lines.get(1));
    assertTrue(MDC.get("trace_id") == null);
  }

  @Test
  void textIsTheDefault() throws Exception {
    List<String> lines = run(null, ctx -> ctx.getLogger("io.sgstreams.test.Plain").info("plain {}", 1));
    assertEquals(1, lines.size());
    assertTrue(lines.get(0).endsWith("INFO  Plain - plain 1"), lines.get(0));
    assertFalse(lines.get(0).startsWith("{"));
  }

  private interface Body {
    void run(LoggerContext ctx);
  }

  /** Configures a fresh LoggerContext from the runtime logback.xml and returns what its console appender wrote. */
  @SuppressWarnings("unchecked")
  private static List<String> run(String format, Body body) throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    String before = System.getProperty("SG_LOG_FORMAT");
    LoggerContext ctx = new LoggerContext();
    try {
      if (format == null) {
        System.clearProperty("SG_LOG_FORMAT");
      } else {
        System.setProperty("SG_LOG_FORMAT", format);
      }
      ctx.setMDCAdapter(MDC.getMDCAdapter()); // the one LogContext writes to
      ctx.start();
      JoranConfigurator c = new JoranConfigurator();
      c.setContext(ctx);
      c.doConfigure(JsonLogsTest.class.getResource("/logback.xml"));
      // the console appender the config chose, writing into the buffer instead (its own stream's close is a no-op)
      ctx.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().forEachRemaining(
          a -> ((OutputStreamAppender<ILoggingEvent>) a).setOutputStream(buf));
      body.run(ctx);
    } finally {
      ctx.stop();
      if (before == null) {
        System.clearProperty("SG_LOG_FORMAT");
      } else {
        System.setProperty("SG_LOG_FORMAT", before);
      }
    }
    return buf.toString(StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
  }
}
