package io.sgstreams.tools.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.tools.BadArgumentsException;
import io.sgstreams.tools.ToolContext;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class BuiltinToolsTest {
  private static final Instant NOW = Instant.parse("2026-03-01T12:34:56.789Z");
  private final ToolContext ctx = new ToolContext("r1", "c1", null, null, null, Map.of(),
      Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void echoReturnsItsArguments() {
    Map<String, Object> args = Map.of("a", 1L, "b", List.of("x", true));
    StepVerifier.create(new EchoTool().call(args, ctx)).expectNext(args).verifyComplete();
    StepVerifier.create(new EchoTool().call(null, ctx)).expectNext(Map.of()).verifyComplete();
  }

  @Test
  void clockGivesEpochAndIso() {
    StepVerifier.create(new ClockTool().call(Map.of(), ctx))
        .assertNext(r -> {
          Map<?, ?> m = assertInstanceOf(Map.class, r);
          assertEquals(NOW.toEpochMilli(), m.get("epoch_ms"));
          assertEquals("2026-03-01T12:34:56.789Z", m.get("iso"));
          assertEquals(2, m.size());
        })
        .verifyComplete();
  }

  @Test
  void clockWithZoneAddsLocalTime() {
    StepVerifier.create(new ClockTool().call(Map.of("zone", "Asia/Tokyo"), ctx))
        .assertNext(r -> {
          Map<?, ?> m = (Map<?, ?>) r;
          assertEquals("2026-03-01T21:34:56.789+09:00", m.get("local"));
          assertEquals("Asia/Tokyo", m.get("zone"));
        })
        .verifyComplete();
  }

  @Test
  void clockRejectsABadZone() {
    StepVerifier.create(new ClockTool().call(Map.of("zone", "Mars/Olympus"), ctx))
        .expectErrorSatisfies(e -> {
          assertInstanceOf(BadArgumentsException.class, e);
          assertTrue(e.getMessage().contains("Mars/Olympus"), e.getMessage());
        })
        .verify();
    StepVerifier.create(new ClockTool().call(Map.of("zone", 3L), ctx))
        .expectError(BadArgumentsException.class).verify();
  }

  @Test
  void calcComputesAndReportsBadArguments() {
    CalcTool calc = new CalcTool(20);
    StepVerifier.create(calc.call(Map.of("expr", "2*21"), ctx)).expectNext(42L).verifyComplete();
    StepVerifier.create(calc.call(Map.of(), ctx))
        .expectErrorSatisfies(e -> assertTrue(e instanceof BadArgumentsException && e.getMessage().contains("'expr'"),
            e.getMessage()))
        .verify();
    StepVerifier.create(calc.call(Map.of("expr", 42L), ctx))
        .expectErrorSatisfies(e -> assertTrue(e.getMessage().contains("must be a string"), e.getMessage()))
        .verify();
    StepVerifier.create(calc.call(Map.of("expr", "1/0"), ctx))
        .expectErrorSatisfies(e -> assertEquals("expr: division by zero at position 2", e.getMessage()))
        .verify();
    StepVerifier.create(calc.call(Map.of("expr", "1+".repeat(20) + "1"), ctx))
        .expectError(BadArgumentsException.class).verify();
  }

  @Test
  void schemasNameTheirParameters() {
    assertEquals(List.of("expr"), new CalcTool(10).parametersSchema().get("required"));
    assertEquals("object", new ClockTool().parametersSchema().get("type"));
  }
}
