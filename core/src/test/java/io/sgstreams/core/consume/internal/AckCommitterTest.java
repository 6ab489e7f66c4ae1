package io.sgstreams.core.consume.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Group commit of XACKs, against a fake XACK whose replies the test completes. */
class AckCommitterTest {
  /** Every XACK sent, with the future the test completes. */
  private final List<List<String>> sent = new CopyOnWriteArrayList<>();
  private final List<CompletableFuture<Long>> replies = new CopyOnWriteArrayList<>();
  private final AtomicInteger acked = new AtomicInteger();

  private CompletionStage<Long> xack(String stream, String group, String[] ids) {
    sent.add(List.of(ids));
    CompletableFuture<Long> f = new CompletableFuture<>();
    replies.add(f);
    return f;
  }

  private AckCommitter committer(int batch) {
    return new AckCommitter(this::xack, "s", "g", batch, (s, g, n) -> acked.addAndGet(n), Duration.ofMillis(50));
  }

  @Test
  void idsAckedWhileOneXackIsInFlightGoTogetherInTheNext() {
    AckCommitter c = committer(100);
    List<Mono<Void>> acks = new ArrayList<>();
    for (String id : List.of("1-0", "2-0", "3-0", "4-0")) {
      Mono<Void> m = c.ack(id).cache();
      m.subscribe();
      acks.add(m);
    }
    assertEquals(List.of(List.of("1-0")), sent, "one XACK in flight at a time");
    replies.get(0).complete(1L);
    assertEquals(List.of(List.of("1-0"), List.of("2-0", "3-0", "4-0")), sent);
    StepVerifier.create(acks.get(0)).verifyComplete();
    replies.get(1).complete(3L);
    for (Mono<Void> m : acks) {
      StepVerifier.create(m).verifyComplete();
    }
    assertEquals(4, acked.get());
    assertTrue(c.idle());
  }

  @Test
  void aBatchNeverExceedsItsLimit() {
    AckCommitter c = committer(2);
    for (int i = 1; i <= 5; i++) {
      c.ack(i + "-0").subscribe();
    }
    replies.get(0).complete(1L);
    replies.get(1).complete(2L);
    replies.get(2).complete(2L);
    assertEquals(List.of(List.of("1-0"), List.of("2-0", "3-0"), List.of("4-0", "5-0")), sent);
  }

  @Test
  void aTransientFailureIsRetriedWithBackoff() {
    AckCommitter c = committer(10);
    StepVerifier.withVirtualTime(() -> c.ack("1-0"))
        .then(() -> replies.get(0).completeExceptionally(new RedisConnectionException("connection reset")))
        .expectNoEvent(Duration.ofMillis(20))
        .thenAwait(Duration.ofSeconds(1))
        .then(() -> replies.get(1).complete(1L))
        .verifyComplete();
    assertEquals(2, sent.size(), "sent again after the backoff");
  }

  @Test
  void aPermanentFailureFailsTheBatchAndTheNextBatchGoesOn() {
    AckCommitter c = committer(10);
    Mono<Void> first = c.ack("1-0").cache();
    first.subscribe(v -> {}, e -> {});
    Mono<Void> second = c.ack("2-0").cache();
    second.subscribe(v -> {}, e -> {});
    replies.get(0).completeExceptionally(new RedisCommandExecutionException("NOGROUP no such group"));
    StepVerifier.create(first).expectError(RedisCommandExecutionException.class).verify();
    assertEquals(List.of(List.of("1-0"), List.of("2-0")), sent, "not retried; the queue goes on");
    replies.get(1).complete(1L);
    StepVerifier.create(second).verifyComplete();
  }
}
