package io.sgstreams.bench.roundtrip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sgstreams.bench.roundtrip.RoundTripOptions.Mode;
import io.sgstreams.bench.roundtrip.RoundTripOptions.Via;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class RoundTripOptionsTest {

  @Test
  void defaultsAreSgBenchsDefaults() {
    RoundTripOptions o = RoundTripOptions.builder().build();
    assertEquals(200_000, o.messages());
    assertEquals(4, o.workers());
    assertEquals(256, o.payloadBytes());
    assertEquals(Mode.CLOSED, o.mode());
    assertEquals(1000, o.inflight());
    assertEquals(5000, o.rate());
    assertNull(o.durationSeconds());
    assertEquals(100_000, o.warmup());
    assertEquals(30, o.jitSettleSeconds());
    assertEquals(Via.STREAM, o.via());
    assertNull(o.redisUrl());
    assertEquals(200_000, o.measuredRequests());
  }

  @Test
  void anOpenLoopWithADurationRunsRateTimesDurationRequests() {
    RoundTripOptions o = RoundTripOptions.builder().mode(Mode.OPEN).rate(5000).durationSeconds(600).build();
    assertEquals(3_000_000, o.measuredRequests());
  }

  @Test
  void aBlankRedisUrlMeansEmbedded() {
    assertNull(RoundTripOptions.builder().redisUrl(" ").build().redisUrl());
    assertEquals("redis://h:1", RoundTripOptions.builder().redisUrl("redis://h:1").build().redisUrl());
  }

  @Test
  void wireNamesParseBackAndOthersAreRefusedNamingTheFlag() {
    for (Mode m : Mode.values()) {
      assertEquals(m, Mode.parse(m.wire()));
    }
    for (Via v : Via.values()) {
      assertEquals(v, Via.parse(v.wire()));
    }
    assertEquals("closed", Mode.CLOSED.wire());
    assertEquals("http", Via.HTTP.wire());
    assertEquals("--mode must be closed or open", assertThrows(IllegalArgumentException.class, () -> Mode.parse("OPEN")).getMessage());
    assertEquals("--via must be stream or http", assertThrows(IllegalArgumentException.class, () -> Via.parse("grpc")).getMessage());
  }

  @Test
  void invalidValuesAreRefusedWithTheFlagsMessage() {
    refused(b -> b.messages(0), "--messages must be a positive whole number");
    refused(b -> b.workers(-1), "--workers must be a positive whole number");
    refused(b -> b.payloadBytes(-1), "--payload-bytes must be between 0 and 524288");
    refused(b -> b.payloadBytes(524_289), "--payload-bytes must be between 0 and 524288");
    refused(b -> b.inflight(0), "--inflight must be a positive whole number");
    refused(b -> b.mode(Mode.OPEN).rate(0), "--rate must be positive");
    refused(b -> b.mode(Mode.OPEN).durationSeconds(0), "--duration must be a positive whole number");
    refused(b -> b.durationSeconds(10), "--duration needs --mode open");
    refused(b -> b.warmup(-1), "--warmup must not be negative");
    refused(b -> b.jitSettleSeconds(-1), "--jit-settle must not be negative");
    // the rate only matters in the open loop
    assertEquals(0, RoundTripOptions.builder().rate(0).build().rate());
    assertEquals(0, RoundTripOptions.builder().payloadBytes(0).warmup(0).build().warmup());
  }

  private static void refused(UnaryOperator<RoundTripOptions.Builder> change, String message) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> change.apply(RoundTripOptions.builder()).build());
    assertEquals(message, e.getMessage());
  }
}
