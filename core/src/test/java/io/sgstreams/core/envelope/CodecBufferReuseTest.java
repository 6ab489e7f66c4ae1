package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The encoder packs into a per-thread buffer and the decoder resets a per-thread unpacker: whatever
 * happened to the previous envelope on the thread (too large, malformed, a large one that grew the
 * buffer), the next one comes out exactly as a fresh codec would make it.
 */
class CodecBufferReuseTest {
  private static final EnvelopeCodec CODEC = EnvelopeCodec.create(64 * 1024);

  private static byte[] fresh(Envelope e) {
    return EnvelopeWriter.encodeFreshForTest(e);
  }

  @Test
  void anEncodeAfterAFailedOneIsExact() {
    InboundEnvelope small = InboundEnvelope.create("web", "c", "u", "hello");
    InboundEnvelope huge = InboundEnvelope.create("web", "c", "u", "x".repeat(100_000));
    assertThrows(EnvelopeTooLargeException.class, () -> CODEC.encode(huge));
    byte[] b = CODEC.encode(small);
    assertArrayEquals(fresh(small), b);
    assertEquals(small, CODEC.decode(b, InboundEnvelope.class));
  }

  @Test
  void aLargeEnvelopeThenSmallOnesAreExact() {
    EnvelopeCodec big = EnvelopeCodec.create(1 << 20);
    InboundEnvelope large = InboundEnvelope.create("web", "c", "u", "y".repeat(200_000))
        .withAttachments(List.of(new Attachment("a.bin", "application/octet-stream", new byte[70_000])));
    byte[] lb = big.encode(large);
    assertArrayEquals(fresh(large), lb);
    for (int i = 0; i < 3; i++) {
      InboundEnvelope small = InboundEnvelope.create("web", "c" + i, "u", "z".repeat(i * 10));
      byte[] b = big.encode(small);
      assertArrayEquals(fresh(small), b);
      assertEquals(small, big.decode(b, InboundEnvelope.class));
    }
    assertEquals(large, big.decode(lb, InboundEnvelope.class));
  }

  @Test
  void stringsOfEveryHeaderSizeAreTheSameBytesAsPackString() {
    EnvelopeCodec big = EnvelopeCodec.create(1 << 20);
    for (int n : new int[] {0, 1, 31, 32, 255, 256, 511, 512, 1000, 4095, 4096, 4097, 65535, 65536}) {
      for (String unit : new String[] {"a", "\u00e9", "\u4e2d", "\ud83d\ude00"}) {
        String content = unit.repeat(Math.max(0, n / unit.length()));
        InboundEnvelope in = InboundEnvelope.create("web", "c-" + unit, "u", content);
        byte[] b = big.encode(in);
        assertArrayEquals(fresh(in), b, n + " x " + unit);
        assertEquals(in, big.decode(b, InboundEnvelope.class));
      }
    }
  }

  @Test
  void aDecodeAfterAMalformedOneIsExact() {
    InboundEnvelope in = InboundEnvelope.create("web", "c", "u", "after");
    byte[] good = CODEC.encode(in);
    byte[] truncated = java.util.Arrays.copyOf(good, good.length / 2);
    assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(truncated));
    assertThrows(MalformedEnvelopeException.class, () -> CODEC.decode(new byte[] {(byte) 0xc1}));
    assertEquals(in, CODEC.decode(good, InboundEnvelope.class));
    // unknown keys are still read as strings and kept
    InboundEnvelope withExtra = in.withExtra(java.util.Map.of("zz_unknown", org.msgpack.value.ValueFactory.newString("v"), "c", org.msgpack.value.ValueFactory.newInteger(1L)));
    assertEquals(withExtra, CODEC.decode(CODEC.encode(withExtra), InboundEnvelope.class));
  }
}
