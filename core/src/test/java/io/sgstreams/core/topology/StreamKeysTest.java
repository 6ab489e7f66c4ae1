package io.sgstreams.core.topology;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamKeysTest {

  @Test
  void safeSegmentKeepsOrdinaryTextAsItIs() {
    String plain = "caller-42_é.✓/x";
    assertSame(plain, StreamKeys.safeSegment(plain));
  }

  @Test
  void safeSegmentEscapesBracesSeparatorsPercentAndWhitespace() {
    assertEquals("%7Bp0%7D", StreamKeys.safeSegment("{p0}"));
    assertEquals("a%3Ab%25c%20d%09e", StreamKeys.safeSegment("a:b%c d\te"));
    assertEquals("x%C2%A0y", StreamKeys.safeSegment("x\u00a0y"), "a no-break space is escaped as UTF-8");
  }

  @Test
  void safeSegmentGivesAValidSegmentWithoutBraces() {
    for (String s : List.of("{p0}", "}{", "a:b", " ", "%", "\u0000", "{{x}}", "é{}✓")) {
      String safe = StreamKeys.safeSegment(s);
      assertSame(safe, StreamKeys.requireSegment(safe));
      assertTrue(safe.indexOf('{') < 0 && safe.indexOf('}') < 0, safe);
    }
  }

  @Test
  void safeSegmentIsInjective() {
    List<String> inputs = List.of("{", "%7B", "%257B", "%", "%25", ":", "%3A", "a b", "a%20b", "a+b");
    Set<String> out = new HashSet<>();
    inputs.forEach(s -> out.add(StreamKeys.safeSegment(s)));
    assertEquals(inputs.size(), out.size(), out.toString());
    assertNotEquals(StreamKeys.safeSegment("{"), StreamKeys.safeSegment("%7B"));
  }

  @Test
  void safeSegmentRefusesNothingButEmptiness() {
    assertThrows(IllegalArgumentException.class, () -> StreamKeys.safeSegment(""));
    assertThrows(IllegalArgumentException.class, () -> StreamKeys.safeSegment(null));
  }

  @Test
  void taggedAppendsTheTagAndRefusesBraces() {
    assertEquals("sg:stream:inbound:{p3.23}", StreamKeys.tagged("sg:stream:inbound", "p3.23"));
    assertThrows(IllegalArgumentException.class, () -> StreamKeys.tagged("sg:{x}", "p0"));
    assertThrows(IllegalArgumentException.class, () -> StreamKeys.tagged("sg:x", "p{0"));
    assertThrows(IllegalArgumentException.class, () -> StreamKeys.tagged("sg:x", "p:0"));
  }
}
