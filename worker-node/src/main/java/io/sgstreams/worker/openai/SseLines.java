package io.sgstreams.worker.openai;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a byte stream into server-sent-event {@code data:} payloads, across chunk boundaries (a
 * line, or a multi-byte character, may be cut anywhere). Lines are decoded as UTF-8 only once
 * complete. Not thread-safe: one per response.
 */
final class SseLines {
  /** Longest line kept; past it the stream is malformed, not an unbounded buffer. */
  static final int MAX_LINE_BYTES = 1 << 20;

  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();

  /** The {@code data:} payloads completed by {@code chunk}, in order (comments and other fields skipped). */
  List<String> feed(byte[] chunk) {
    List<String> out = new ArrayList<>(2);
    int start = 0;
    for (int i = 0; i < chunk.length; i++) {
      if (chunk[i] == '\n') {
        partial.write(chunk, start, i - start);
        line(out);
        start = i + 1;
      }
    }
    partial.write(chunk, start, chunk.length - start);
    if (partial.size() > MAX_LINE_BYTES) {
      throw new OpenAiException("a streamed line is longer than " + MAX_LINE_BYTES + " bytes", 0, null);
    }
    return out;
  }

  /** What is left when the stream ends (a last line without a newline). */
  List<String> finish() {
    List<String> out = new ArrayList<>(1);
    if (partial.size() > 0) {
      line(out);
    }
    return out;
  }

  private void line(List<String> out) {
    String line = partial.toString(StandardCharsets.UTF_8);
    partial.reset();
    if (line.endsWith("\r")) {
      line = line.substring(0, line.length() - 1);
    }
    if (line.startsWith("data:")) {
      out.add(line.substring(5).trim());
    }
  }
}
