package io.sgstreams.core.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WireKeysTest {

  private static int id(String s, int pad) {
    byte[] k = s.getBytes(StandardCharsets.UTF_8);
    byte[] b = new byte[k.length + 2 * pad];
    java.util.Arrays.fill(b, (byte) 'x');
    System.arraycopy(k, 0, b, pad, k.length);
    return WireKeys.id(b, pad, k.length);
  }

  @Test
  void everyKnownKeyIsFoundAtAnyOffset() {
    for (int i = 0; i < WireKeys.COUNT; i++) {
      assertEquals(i, id(WireKeys.NAMES[i], 0), WireKeys.NAMES[i]);
      assertEquals(i, id(WireKeys.NAMES[i], 5), WireKeys.NAMES[i]);
    }
  }

  @Test
  void nearMissesAreUnknown() {
    Set<String> known = new HashSet<>(List.of(WireKeys.NAMES));
    Set<String> tried = new HashSet<>(List.of("", "V", "ID", "kin", "kinds", "correlation", "channel", "user-id",
        "content ", " content", "tenant", "typ", "tools", "érror", "日本"));
    for (String n : WireKeys.NAMES) {
      tried.add(n.substring(1));
      tried.add(n.substring(0, n.length() - 1));
      tried.add(n + "s");
      for (int i = 0; i < n.length(); i++) {
        // one byte changed: same length, and the same first and last byte when i is inside
        tried.add(n.substring(0, i) + (char) (n.charAt(i) ^ 1) + n.substring(i + 1));
      }
    }
    Random r = new Random(3);
    for (int i = 0; i < 20_000; i++) {
      char[] c = new char[1 + r.nextInt(15)];
      for (int j = 0; j < c.length; j++) {
        c[j] = (char) ('_' + r.nextInt(28));
      }
      tried.add(new String(c));
    }
    for (String s : tried) {
      int want = known.contains(s) ? List.of(WireKeys.NAMES).indexOf(s) : -1;
      assertEquals(want, id(s, 0), s);
      assertEquals(want, id(s, 3), s);
    }
  }
}
