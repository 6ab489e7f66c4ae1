package io.sgstreams.core.consume.middleware;

import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.Middleware;
import reactor.core.publisher.Mono;

/**
 * Dead-letters an entry that cannot be decoded (no {@code data} field, bad MessagePack, a higher
 * {@code v}, too large) at once, without calling the handler: retrying cannot fix its bytes.
 */
final class RejectUndecodable implements Middleware {
  @Override
  public Handler wrap(Handler next) {
    return d -> d.decodeError().isPresent()
        ? d.deadLetter(d.decodeError().get()).thenReturn(HandlerResult.none())
        : next.handle(d);
  }
}
