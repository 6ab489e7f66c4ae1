package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded random inputs: whatever the bytes, decode either returns an envelope (which then re-encodes and decodes
 * to an equal one) or throws an {@link EnvelopeException}; never anything else.
 */
class EnvelopeFuzzTest {
    private static final EnvelopeCodec CODEC = EnvelopeCodec.create(64 * 1024);
    private static final long SEED = 0x5E57_2EA4L;

    private int decoded;
    private int rejected;

    private void check(byte[] input) {
        Envelope e;
        try {
            e = CODEC.decode(input);
        } catch (EnvelopeException expected) {
            rejected++;
            assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
            return;
        } catch (Throwable t) {
            fail("decode threw " + t + " for input " + Mp.hex(input), t);
            return;
        }
        decoded++;
        try {
            Envelope again = CODEC.decode(CODEC.encode(e));
            assertEquals(e, again, () -> "re-encoding changed the envelope for input " + Mp.hex(input));
        } catch (EnvelopeException ex) {
            fail("re-encoding a decoded envelope failed for input " + Mp.hex(input), ex);
        }
    }

    private static List<byte[]> seeds() {
        List<byte[]> s = new ArrayList<>();
        s.add(CODEC.encode(EnvelopeRoundTripTest.fullInbound()));
        s.add(Mp.inbound().put("x", Map.of("a", List.of(1, 2.5, "s"))).bytes());
        s.add(Mp.outbound().put("attachments", List.of(Map.of("name", "n", "mime", "m", "data", new byte[3])))
                .bytes());
        s.add(Mp.toolRequest().put("args", Map.of("q", List.of(Map.of("k", new byte[] {1})))).bytes());
        s.add(Mp.toolReply().put("result", List.of(Map.of("r", -5), "x")).bytes());
        s.add(Mp.toolReply().put("ok", false).put("error", Map.of("code", "c", "message", "m")).bytes());
        return s;
    }

    @Test
    void randomBytes() {
        Random r = new Random(SEED);
        for (int i = 0; i < 20_000; i++) {
            byte[] b = new byte[r.nextInt(i % 10 == 0 ? 2000 : 64)];
            r.nextBytes(b);
            if (b.length > 0 && r.nextBoolean()) {
                // make it look like a map more often, so the decoder gets past the first byte
                b[0] = (byte) (r.nextBoolean() ? 0x80 + r.nextInt(16) : 0xde + r.nextInt(2));
            }
            check(b);
        }
        assertEquals(20_000, decoded + rejected);
    }

    @Test
    void mutatedValidEncodings() {
        Random r = new Random(SEED + 1);
        List<byte[]> seeds = seeds();
        for (byte[] s : seeds) {
            check(s);
        }
        assertEquals(seeds.size(), decoded, "seeds are valid");
        for (int i = 0; i < 20_000; i++) {
            byte[] s = seeds.get(r.nextInt(seeds.size()));
            byte[] m;
            switch (r.nextInt(6)) {
                case 0 -> m = Arrays.copyOf(s, r.nextInt(s.length)); // truncation
                case 1 -> { // 1-3 bit flips
                    m = s.clone();
                    for (int k = 1 + r.nextInt(3); k > 0; k--) {
                        int p = r.nextInt(m.length);
                        m[p] ^= (byte) (1 << r.nextInt(8));
                    }
                }
                case 2 -> { // random byte replaced
                    m = s.clone();
                    m[r.nextInt(m.length)] = (byte) r.nextInt(256);
                }
                case 3 -> { // byte inserted
                    int p = r.nextInt(s.length + 1);
                    m = new byte[s.length + 1];
                    System.arraycopy(s, 0, m, 0, p);
                    m[p] = (byte) r.nextInt(256);
                    System.arraycopy(s, p, m, p + 1, s.length - p);
                }
                case 4 -> { // byte deleted
                    int p = r.nextInt(s.length);
                    m = new byte[s.length - 1];
                    System.arraycopy(s, 0, m, 0, p);
                    System.arraycopy(s, p + 1, m, p, s.length - p - 1);
                }
                default -> { // a length-ish header byte planted somewhere
                    m = s.clone();
                    int p = r.nextInt(m.length);
                    int[] headers = {0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xc1};
                    m[p] = (byte) headers[r.nextInt(headers.length)];
                }
            }
            check(m);
        }
        assertTrue(rejected > 10_000, "most mutations are rejected: " + rejected);
        assertTrue(decoded > 100, "some mutations still decode: " + decoded);
    }
}
