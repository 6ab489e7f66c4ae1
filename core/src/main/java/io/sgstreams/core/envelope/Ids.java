package io.sgstreams.core.envelope;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envelope ids: UUIDv7 (RFC 9562) strings such as {@code 0190f5a2-7c41-7a3b-9d2e-4f1c8b6a0e57}.
 *
 * <p>Layout: 48-bit Unix epoch milliseconds, version {@code 7}, a 42-bit counter (the 12 bits of
 * {@code rand_a} and the top 30 bits of {@code rand_b}: RFC 9562 section 6.2 method 1, "fixed
 * bit-length dedicated counter"), variant {@code 10}, 32 random bits. Each new millisecond the
 * counter starts at a random value in its lower half and counts up for ids created within the same
 * millisecond, so ids from one JVM are strictly increasing (as strings too) however many are made
 * per millisecond: 2^41 ids fit in one millisecond, so the timestamp never runs ahead of the clock
 * (a 12-bit counter did, by tens of milliseconds after a burst). If the clock steps back, ids keep
 * the last millisecond and count up. The random bits come from {@link ThreadLocalRandom}: ids are
 * unique, not secret.
 */
public final class Ids {
    private static final int COUNTER_BITS = 42;
    private static final long COUNTER_MASK = (1L << COUNTER_BITS) - 1;

    /** Last id handed out: milliseconds (48 bits) and counter (42 bits), 90 bits in two longs. */
    private static final Object LOCK = new Object();
    private static long lastMillis;
    private static long lastCounter;

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
        long millis;
        long counter;
        synchronized (LOCK) {
            if (now > lastMillis) {
                lastMillis = now;
                lastCounter = rnd.nextLong(1L << (COUNTER_BITS - 1));
            } else if (lastCounter < COUNTER_MASK) {
                lastCounter++; // same millisecond (or the clock went back): count up
            } else {
                lastMillis++; // 2^41 ids in one millisecond: not reachable, but never repeat an id
                lastCounter = 0;
            }
            millis = lastMillis;
            counter = lastCounter;
        }
        long msb = (millis << 16) | 0x7000L | (counter >>> 30);
        long lsb = 0x8000_0000_0000_0000L | ((counter & 0x3FFF_FFFFL) << 32) | (rnd.nextInt() & 0xFFFF_FFFFL);
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
