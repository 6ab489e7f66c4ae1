package io.sgstreams.worker.failure;

import io.sgstreams.core.envelope.EnvelopeCodec;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Malformed {@code data} values for the inbound stream, one generator per kind. Each knows the
 * envelope exception it must be dead-lettered with, so the test can check the reason.
 */
final class Garbage {
  static final String ENVELOPE = "io.sgstreams.core.envelope.";

  /** A kind of garbage and the error class (simple name) whose dead letter it must produce. */
  enum Kind {
    RANDOM_BYTES(ENVELOPE + "MalformedEnvelopeException"),
    TRUNCATED(ENVELOPE + "MalformedEnvelopeException"),
    WRONG_TYPE(ENVELOPE + "MalformedEnvelopeException"),
    MISSING_FIELD(ENVELOPE + "MalformedEnvelopeException"),
    HIGHER_VERSION(ENVELOPE + "UnsupportedVersionException"),
    HUGE(ENVELOPE + "EnvelopeTooLargeException"),
    NO_DATA_FIELD(ENVELOPE + "MalformedEnvelopeException"),
    /** A well-formed envelope of another kind: decodes, but the echo handler refuses it permanently. */
    WRONG_KIND("io.sgstreams.core.consume.PermanentFailure");

    /** Fully qualified class name the dead letter's {@code error} starts with. */
    final String error;

    Kind(String error) {
      this.error = error;
    }
  }

  static final List<String> REQUIRED = List.of("v", "id", "kind", "correlation_id", "enqueued_at",
      "platform", "channel_id", "user_id", "content");

  private final Random random;
  private final EnvelopeCodec codec;

  Garbage(long seed, EnvelopeCodec codec) {
    this.random = new Random(seed);
    this.codec = codec;
  }

  /** The contract's inbound keys with valid values, in wire order. */
  static Map<String, Object> validMap(String content) {
    InboundEnvelope e = InboundEnvelope.create("web", "garbage", "u", content);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("v", 1L);
    m.put("id", e.id());
    m.put("kind", "inbound");
    m.put("correlation_id", e.correlationId());
    m.put("platform", "web");
    m.put("channel_id", "garbage");
    m.put("enqueued_at", e.enqueuedAt());
    m.put("user_id", "u");
    m.put("content", content);
    return m;
  }

  byte[] randomBytes() {
    byte[] b = new byte[1 + random.nextInt(200)];
    random.nextBytes(b);
    return b;
  }

  byte[] truncated() {
    byte[] full = codec.encode(InboundEnvelope.create("web", "garbage", "u", "hello " + random.nextInt()));
    return Arrays.copyOf(full, 1 + random.nextInt(full.length - 1));
  }

  byte[] wrongType() {
    Map<String, Object> m = validMap("x");
    String key = List.of("content", "id", "v", "enqueued_at", "channel_id", "user_id", "platform")
        .get(random.nextInt(7));
    // a string where a number is expected, a number where a string is
    m.put(key, m.get(key) instanceof Long ? "not-a-number" : (Object) (long) random.nextInt(1000));
    return pack(m);
  }

  byte[] missingField() {
    Map<String, Object> m = validMap("x");
    m.remove(REQUIRED.get(random.nextInt(REQUIRED.size())));
    return pack(m);
  }

  byte[] higherVersion() {
    Map<String, Object> m = validMap("from the future");
    m.put("v", 2L);
    return pack(m);
  }

  byte[] wrongKind() {
    InboundEnvelope in = InboundEnvelope.create("web", "garbage", "u", "wrong kind " + random.nextInt());
    return codec.encode(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, "not a request"));
  }

  /** A well-formed envelope whose content alone is {@code bytes} long: over any sane size limit. */
  static byte[] huge(int bytes) {
    char[] c = new char[bytes];
    Arrays.fill(c, 'z');
    return pack(validMap(new String(c)));
  }

  static byte[] pack(Map<String, Object> m) {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packMapHeader(m.size());
      for (Map.Entry<String, Object> e : m.entrySet()) {
        p.packString(e.getKey());
        Object v = e.getValue();
        if (v instanceof Long l) {
          p.packLong(l);
        } else {
          p.packString((String) v);
        }
      }
      return p.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
