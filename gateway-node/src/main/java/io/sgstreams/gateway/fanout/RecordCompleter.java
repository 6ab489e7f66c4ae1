package io.sgstreams.gateway.fanout;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.trace.LogContext;
import io.sgstreams.gateway.http.Json;
import io.sgstreams.gateway.limit.IdempotencyStore;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Completes idempotency records from the reply fan-out: a reply whose inbound message was sent
 * with an {@code Idempotency-Key} carries the record's key in {@link IdempotencyStore#RECORD_HEADER}
 * (workers copy the inbound headers to their replies), and whichever gateway sees the reply stores
 * it in the record, whether or not a client is waiting. Each node does this for every reply it
 * tails; the write is a compare-and-set on the message id, so the first reply wins and the others
 * change nothing. At most {@link #MAX_IN_FLIGHT} writes at once per node; past that a completion
 * is skipped (counted): a retry that waits still gets the reply from the stream.
 */
public final class RecordCompleter implements Consumer<ReplyEvent> {
  static final int MAX_IN_FLIGHT = 10_000;
  private static final Logger log = LoggerFactory.getLogger(RecordCompleter.class);

  private final IdempotencyStore store;
  private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
  private final Counter completed;
  private final Counter skipped;

  public RecordCompleter(IdempotencyStore store, MeterRegistry registry) {
    this.store = store;
    this.completed = Counter.builder("sg.gateway.idempotency.completed").register(registry);
    this.skipped = Counter.builder("sg.gateway.idempotency.completion.skipped").register(registry);
  }

  @Override
  public void accept(ReplyEvent e) {
    OutboundEnvelope o = e.reply();
    String key = o.headers().get(IdempotencyStore.RECORD_HEADER);
    // a reply can only complete a record of its own tenant, and only the one bound to its message
    // the record keeps the answer, not a delta or tool-call event on the way to it
    if (key == null || o.isProgress() || !store.belongsTo(o.tenant(), key)) {
      return;
    }
    if (!inFlight.tryAcquire()) {
      skipped.increment();
      return;
    }
    store.complete(key, o.inReplyTo(), Json.reply(o, e.streamId()))
        .doFinally(s -> inFlight.release())
        .subscribe(done -> {
          if (done) {
            completed.increment();
          }
        }, err -> {
          try (var ctx = LogContext.of(o)) {
            log.warn("could not store the reply {} to {} in its idempotency record (correlation {}): {}",
                e.streamId(), o.inReplyTo(), o.correlationId(), err.toString());
          }
        });
  }
}
