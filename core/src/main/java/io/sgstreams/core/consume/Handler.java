package io.sgstreams.core.consume;

import reactor.core.publisher.Mono;

/**
 * Handles one delivery. Lazy: no work before subscription (retry is resubscription). Must not
 * block: it runs on I/O threads; wrap blocking work in {@code Mono.fromCallable(...)
 * .subscribeOn(Schedulers.boundedElastic())}.
 */
@FunctionalInterface
public interface Handler {
  Mono<HandlerResult> handle(Delivery delivery);
}
