package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.Middleware;
import io.sgstreams.core.metrics.StreamMetrics;
import reactor.core.publisher.Mono;

/**
 * Counts failed deliveries ({@code sg.messages.failed}: undecodable, over the limit, or a handler
 * error) and times successful handling ({@code sg.handler}) and the whole trip from the
 * envelope's {@code enqueued_at} ({@code sg.end.to.end}).
 */
final class Metrics implements Middleware {
  private final StreamMetrics metrics;

  Metrics(StreamMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public Handler wrap(Handler next) {
    return d -> {
      if (d.decodeError().isPresent()) {
        metrics.failed(d.stream(), d.group());
        return next.handle(d);
      }
      long start = System.nanoTime();
      return Mono.defer(() -> next.handle(d))
          .doOnSuccess(r -> {
            if (d.settled()) {
              metrics.failed(d.stream(), d.group()); // dead-lettered inside the chain
            } else {
              metrics.handlerLatency(d.stream(), d.group(), System.nanoTime() - start);
              metrics.endToEnd(d.stream(), d.group(), d.envelope().enqueuedAt());
            }
          })
          .doOnError(e -> metrics.failed(d.stream(), d.group()));
    };
  }
}
