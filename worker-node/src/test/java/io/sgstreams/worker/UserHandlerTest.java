package io.sgstreams.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UserHandlerTest {
  @Test
  void aUserHandlerIsLoadedThroughServiceLoader() {
    try (Rig rig = new Rig(false, Map.of("SG_WORKER_HANDLER", "upper"))) {
      InboundEnvelope in = rig.send("shout");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), Duration.ofSeconds(10));
      assertEquals("SHOUT from rig", out.content());
    }
  }

  @Test
  void withNoToolsNodeAToolCallTimesOutIntoAnErrorReply() {
    try (Rig rig = new Rig(false, Map.of("SG_TOOL_CALL_TIMEOUT_MS", "300"))) {
      long start = System.nanoTime();
      InboundEnvelope in = rig.send("/tool clock");
      OutboundEnvelope out = Outbound.awaitReply(rig.bus, "web", in.id(), Duration.ofSeconds(10));
      assertEquals(OutboundEnvelope.TYPE_ERROR, out.type());
      assertTrue(out.content().startsWith("tool_timeout: no reply within 300 ms (tool clock"), out.content());
      assertTrue(System.nanoTime() - start >= Duration.ofMillis(300).toNanos());
      assertEquals(0, rig.node.tools().pendingCalls());
    }
  }
}
