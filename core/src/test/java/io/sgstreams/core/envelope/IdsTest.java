package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class IdsTest {
    private static final Pattern FORMAT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    @Test
    void versionVariantAndTimestamp() {
        long before = System.currentTimeMillis();
        String id = Ids.newId();
        long after = System.currentTimeMillis();
        assertTrue(FORMAT.matcher(id).matches(), id);
        UUID u = UUID.fromString(id);
        assertEquals(7, u.version());
        assertEquals(2, u.variant()); // RFC 9562 variant 10xx
        long ts = Ids.timestampMillis(id);
        assertTrue(ts >= before && ts <= after, ts + " not in [" + before + ", " + after + "]");
        assertEquals(ts, u.getMostSignificantBits() >>> 16);
    }

    @Test
    void strictlyIncreasingWithinAndAcrossMilliseconds() {
        String prev = Ids.newId();
        for (int i = 0; i < 200_000; i++) {
            String next = Ids.newId();
            assertTrue(next.compareTo(prev) > 0, prev + " then " + next);
            prev = next;
        }
    }

    @Test
    void aBurstNeverRunsAheadOfTheClock() {
        for (int i = 0; i < 500_000; i++) {
            Ids.newUuid();
        }
        long after = System.currentTimeMillis();
        long ts = Ids.timestampMillis(Ids.newId());
        assertTrue(ts <= System.currentTimeMillis(), ts + " is ahead of the clock (" + after + ")");
    }

    @Test
    void uniqueAcrossThreads() throws InterruptedException {
        Set<String> all = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                String prev = "";
                for (int i = 0; i < 50_000; i++) {
                    String id = Ids.newId();
                    assertTrue(id.compareTo(prev) > 0);
                    prev = id;
                    all.add(id);
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(200_000, all.size());
    }

    @Test
    void randomBitsDiffer() {
        Set<Long> low = ConcurrentHashMap.newKeySet();
        for (int i = 0; i < 1000; i++) {
            low.add(Ids.newUuid().getLeastSignificantBits());
        }
        assertEquals(1000, low.size());
    }

    @Test
    void timestampOfNonV7() {
        assertThrows(IllegalArgumentException.class, () -> Ids.timestampMillis(UUID.randomUUID().toString()));
        assertThrows(IllegalArgumentException.class, () -> Ids.timestampMillis("nope"));
    }
}
