package io.sgstreams.gateway.webhook;

import java.util.List;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.consume.Handler;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.PermanentFailure;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.resilience.Guard;
import io.sgstreams.gateway.http.Json;
import java.net.URI;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.client.HttpClient;
import reactor.util.retry.Retry;

/**
 * Delivers the {@code webhook} platform's replies: the consumer group
 * {@code gatewayGroup("webhook")} (so exactly one gateway node takes each entry) runs this
 * handler, which POSTs the reply JSON to the configured URL, retrying with exponential backoff.
 * After {@code maxAttempts} failures the handler fails with a {@link PermanentFailure} and the
 * core Router dead-letters the entry: it is never dropped. The POST carries
 * {@code X-SG-Message-Key} so the receiver can drop redeliveries.
 */
public final class WebhookDelivery implements Handler {
  public static final String PLATFORM = "webhook";
  private static final Logger log = LoggerFactory.getLogger(WebhookDelivery.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final HttpClient client;
  private final URI url;
  /** The URL as logs and dead letters show it: no credentials, no query. */
  private final String shown;
  private final int maxAttempts;
  private final Duration backoff;
  private final Duration timeout;
  private volatile Guard guard;

  public WebhookDelivery(URI url, int maxAttempts, Duration backoff, Duration timeout) {
    this.url = url;
    this.shown = redact(url);
    this.maxAttempts = maxAttempts;
    this.backoff = backoff;
    this.timeout = timeout;
    this.client = HttpClient.create().responseTimeout(timeout)
        .option(io.netty.channel.ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeout.toMillis(), 30_000));
  }

  /** Starts the webhook consumer on {@code bus}. */
  public Router start(RedisEventBus bus) {
    List<String> streams = bus.topology().outboundStreams(PLATFORM);
    String group = bus.topology().gatewayGroup(PLATFORM);
    ReceiverOptions opts = ReceiverOptions.of(streams.get(0), group, bus.consumerName(), bus.config().consumer())
        .withStreams(streams);
    guard = Guard.of("webhook", bus.config().resilience(), timeout, bus.metrics().registry());
    return Router.create(bus, opts, this).start();
  }

  @Override
  public Mono<HandlerResult> handle(Delivery d) {
    return Mono.defer(() -> {
      if (!(d.envelope() instanceof OutboundEnvelope o)) {
        return Mono.error(new PermanentFailure("entry " + d.id() + " on " + d.stream() + " is a "
            + d.envelope().kind().wire() + " envelope, not an outbound reply"));
      }
      if (o.isProgress()) {
        // a webhook gets answers only: one POST per delta would cost the endpoint more than the answer
        return Mono.just(HandlerResult.none());
      }
      String body = Json.write(Json.reply(o, d.id()));
      Guard g = guard;
      Mono<Void> once = g == null ? post(body, o.messageKey()) : Mono.defer(() -> g.mono(post(body, o.messageKey())));
      return once
          .retryWhen(Retry.backoff(maxAttempts - 1, backoff).maxBackoff(MAX_BACKOFF)
              .filter(e -> !(e instanceof Guard.Refused))
              .doBeforeRetry(s -> log.debug("webhook POST of {} failed (attempt {}): {}", d.id(), s.totalRetries() + 1,
                  redact(s.failure().toString(), url))))
          .onErrorMap(Guard.Refused.class, e -> {
            // the endpoint failed too often lately: leave the entry pending (claimed again later), not dead-lettered
            log.debug("webhook delivery of {} refused by the circuit breaker: {}", d.id(), e.getMessage());
            return new WebhookUnavailable(e);
          })
          .onErrorMap(e -> !(e instanceof WebhookUnavailable), e -> {
            Throwable cause = Exceptions.isRetryExhausted(e) && e.getCause() != null ? e.getCause() : e;
            String why = redact(cause.toString(), url);
            log.warn("webhook delivery of {} to {} failed after {} attempts; dead-lettering: {}", d.id(), shown, maxAttempts, why);
            // the dead letter keeps the reason only: a cause chain could carry the URL (and its secrets) along
            return new PermanentFailure("webhook " + shown + " failed " + maxAttempts + " times: " + why);
          })
          .thenReturn(HandlerResult.none());
    });
  }

  private Mono<Void> post(String body, String messageKey) {
    return client.headers(h -> h.set("Content-Type", "application/json").set("X-SG-Message-Key", messageKey))
        .post()
        .uri(url)
        .send(ByteBufFlux.fromString(Mono.just(body)))
        .responseSingle((res, content) -> {
          HttpResponseStatus st = res.status();
          if (st.code() >= 200 && st.code() < 300) {
            return content.then();
          }
          return content.then(Mono.error(new WebhookRejected(st.code())));
        });
  }

  /** The webhook's circuit breaker is open (or its bulkhead full): the entry stays pending and is retried later. */
  public static final class WebhookUnavailable extends RuntimeException {
    public WebhookUnavailable(Throwable cause) {
      super(cause.getMessage(), cause);
    }
  }

  /**
   * {@code url} without what may be a secret: user info and query are replaced by {@code ***}
   * ({@code https://***@hooks.example/in?***}); scheme, host, port and path stay, for the operator.
   */
  public static String redact(URI url) {
    StringBuilder b = new StringBuilder().append(url.getScheme()).append("://");
    if (url.getRawUserInfo() != null) {
      b.append("***@");
    }
    b.append(url.getHost());
    if (url.getPort() != -1) {
      b.append(':').append(url.getPort());
    }
    b.append(url.getRawPath() == null ? "" : url.getRawPath());
    if (url.getRawQuery() != null) {
      b.append("?***");
    }
    return b.toString();
  }

  /** {@code text} with the URL's secrets (user info, query) masked wherever they appear. */
  static String redact(String text, URI url) {
    String out = text;
    if (url.getRawQuery() != null && !url.getRawQuery().isEmpty()) {
      out = out.replace(url.getRawQuery(), "***");
      if (url.getQuery() != null && !url.getQuery().isEmpty()) {
        out = out.replace(url.getQuery(), "***");
      }
    }
    if (url.getRawUserInfo() != null && !url.getRawUserInfo().isEmpty()) {
      out = out.replace(url.getRawUserInfo(), "***");
      if (url.getUserInfo() != null && !url.getUserInfo().isEmpty()) {
        out = out.replace(url.getUserInfo(), "***");
      }
    }
    return out;
  }

  /** The webhook answered with a non-2xx status. */
  public static final class WebhookRejected extends RuntimeException {
    public WebhookRejected(int status) {
      super("HTTP " + status);
    }
  }
}
