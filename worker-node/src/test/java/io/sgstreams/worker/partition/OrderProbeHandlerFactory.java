package io.sgstreams.worker.partition;

import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.WorkerContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import reactor.core.publisher.Mono;

/**
 * Records, per conversation, the order in which messages were handled (over every worker of the
 * JVM) and answers with the handling node's id after 0–4 ms: a reordering anywhere (two workers on
 * one conversation, a handover that let new entries overtake pending ones) shows in {@link #handled}.
 */
public final class OrderProbeHandlerFactory implements HandlerFactory {
  public static final String NAME = "order-probe";
  private static final Map<String, List<Integer>> HANDLED = new ConcurrentHashMap<>();

  /** Sequence numbers whose first delivery fails (the handler throws): null = none. */
  private static volatile java.util.function.IntPredicate failFirst;

  public static void reset() {
    HANDLED.clear();
    failFirst = null;
  }

  /** From now on, the first delivery of each message whose sequence number matches fails. */
  public static void failFirstDeliveryOf(java.util.function.IntPredicate seqs) {
    failFirst = seqs;
  }

  /** Conversation key → the sequence numbers in the order they were handled (redeliveries included). */
  public static Map<String, List<Integer>> handled() {
    Map<String, List<Integer>> out = new java.util.HashMap<>();
    HANDLED.forEach((k, v) -> {
      synchronized (v) {
        out.put(k, List.copyOf(v));
      }
    });
    return out;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Handler create(WorkerContext ctx) {
    String node = ctx.config().nodeId();
    return d -> {
      InboundEnvelope in = (InboundEnvelope) d.envelope();
      List<Integer> seen = HANDLED.computeIfAbsent(in.tenant() + "/" + in.channelId(), k -> new ArrayList<>());
      int seq = Integer.parseInt(in.content());
      synchronized (seen) {
        seen.add(seq);
      }
      java.util.function.IntPredicate f = failFirst;
      if (f != null && d.deliveryCount() == 1 && f.test(seq)) {
        return Mono.error(new IllegalStateException("first delivery of " + seq + " fails (order probe)"));
      }
      return Mono.delay(Duration.ofMillis(ThreadLocalRandom.current().nextInt(5)))
          .map(t -> HandlerResult.of(Reply.outbound(OutboundEnvelope.replyTo(in, OutboundEnvelope.TYPE_MESSAGE, node))));
    };
  }
}
