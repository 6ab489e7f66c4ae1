package io.sgstreams.core.envelope;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envelope ids: UUIDv7 (RFC 9562) strings such as {@code 0190f5a2-7c41-7a3b-9d2e-4f1c8b6a0e57}.
 *
 * <p>Layout: 48-bit Unix epoch milliseconds, version {@code 7}, a 12-bit counter ({@code rand_a}, RFC 9562
 * section 6.2 method 1), variant {@code 10}, 62 random bits. The counter starts at a random value in its lower
 * half each new millisecond and counts up for ids created within the same millisecond, so ids from one JVM are
 * strictly increasing (as strings too) even when many are made per millisecond or the clock steps back; when
 * the counter runs out, the timestamp moves a millisecond ahead of the clock. The random bits come from
 * {@link ThreadLocalRandom}: ids are unique, not secret.
 */
public final class Ids {
    /** (milliseconds << 12) | counter of the last id handed out. */
    private static final AtomicLong LAST = new AtomicLong();

    private Ids() {
    }

    /** A new UUIDv7 string (lower-case, 36 characters). */
    public static String newId() {
        return newUuid().toString();
    }

    /** A new UUIDv7. */
    public static UUID newUuid() {
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        long now = System.currentTimeMillis() & 0xFFFF_FFFF_FFFFL;
        long prev;
        long next;
        do {
            prev = LAST.get();
            if (now > (prev >>> 12)) {
                next = (now << 12) | rnd.nextInt(1 << 11);
            } else {
                next = prev + 1; // same millisecond (or clock went back): count up, carrying into the time
            }
        } while (!LAST.compareAndSet(prev, next));
        long millis = (next >>> 12) & 0xFFFF_FFFF_FFFFL;
        long msb = (millis << 16) | 0x7000L | (next & 0xFFFL);
        long lsb = (rnd.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
        return new UUID(msb, lsb);
    }

    /**
     * The millisecond timestamp of a UUIDv7 string.
     *
     * @throws IllegalArgumentException if {@code id} is not a UUID of version 7
     */
    public static long timestampMillis(String id) {
        UUID u = UUID.fromString(id);
        if (u.version() != 7) {
            throw new IllegalArgumentException("not a UUIDv7: " + id);
        }
        return u.getMostSignificantBits() >>> 16;
    }
}
