package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.envelope.Attachment;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.gateway.auth.Caller;
import io.sgstreams.gateway.history.JournalLink;
import io.sgstreams.journal.Cursor;
import io.sgstreams.journal.JournalRow;
import java.util.Base64;
import java.util.List;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * {@code GET /v1/channels/{channel_id}/messages[?platform=web][&before=CURSOR][&limit=50]}: the
 * conversation from the journal — the caller's tenant's requests and answers on this channel,
 * newest first — as {@code {channel_id, platform, messages: [...], next_before}}; pass
 * {@code next_before} as {@code before} for the next (older) page, null at the start of the
 * conversation. Each message is the reply JSON (outbound) or {@code {kind: "inbound", id,
 * correlation_id, user_id, content, enqueued_at, stream_id, attachments?}}, with {@code kind}.
 * 404 {@code journal_off} without a journal; 503 {@code journal_unavailable} when PostgreSQL does
 * not answer.
 */
public final class HistoryRoute {
  static final String ROUTE = "/v1/channels/{channel_id}/messages";
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 200;

  private final RequestGuard guard;
  private final JournalLink journal;
  private final Responses responses;
  private final GatewayMetrics metrics;
  private final List<String> platforms;
  private final io.sgstreams.core.envelope.EnvelopeCodec codec;

  public HistoryRoute(RequestGuard guard, JournalLink journal, Responses responses, GatewayMetrics metrics,
      List<String> platforms, io.sgstreams.core.envelope.EnvelopeCodec codec) {
    this.guard = guard;
    this.journal = journal;
    this.responses = responses;
    this.metrics = metrics;
    this.platforms = platforms;
    this.codec = codec;
  }

  public Publisher<Void> handle(HttpServerRequest req, HttpServerResponse res) {
    return guard.admit(req)
        .flatMap(caller -> page(req, caller))
        .onErrorResume(e -> Mono.just(Responses.error(e, ROUTE)))
        .flatMap(r -> Mono.from(responses.send(res, ROUTE, r)));
  }

  private Mono<HttpResult> page(HttpServerRequest req, Caller caller) {
    String channel = req.param("channel");
    if (channel == null || channel.isBlank() || channel.length() > MessageRequest.MAX_ID_CHARS) {
      throw ApiError.badRequest("invalid_channel", "channel_id must have 1 to " + MessageRequest.MAX_ID_CHARS + " characters");
    }
    String platform = SseRoute.platform(RequestGuard.query(req, "platform"), platforms);
    int limit = limit(RequestGuard.query(req, "limit"));
    Cursor before = cursor(RequestGuard.query(req, "before"));
    if (journal == null) {
      throw new ApiError(404, "journal_off", "this gateway keeps no history: the journal is off (SG_JOURNAL, POSTGRES_URL)");
    }
    return journal.history(caller.tenant(), platform, channel, before, limit + 1)
        .collectList()
        .onErrorMap(e -> !(e instanceof ApiError), e -> new JournalUnavailable(e))
        .map(rows -> {
          ObjectNode body = Json.object().put("channel_id", channel).put("platform", platform);
          ArrayNode messages = body.putArray("messages");
          List<JournalRow> shown = rows.size() > limit ? rows.subList(0, limit) : rows;
          for (JournalRow r : shown) {
            messages.add(message(r));
          }
          if (rows.size() > limit) {
            JournalRow last = shown.get(shown.size() - 1);
            body.put("next_before", new Cursor(last.entryMs(), last.entrySeq(), last.stream()).encode());
          } else {
            body.putNull("next_before");
          }
          return HttpResult.of(200, body);
        });
  }

  private ObjectNode message(JournalRow r) {
    Envelope e;
    try {
      e = codec.decode(r.data());
    } catch (RuntimeException x) {
      e = null;
    }
    if (e instanceof OutboundEnvelope o) {
      return Json.reply(o, r.entryId()).put("kind", "outbound");
    }
    ObjectNode n = Json.object().put("kind", r.kind()).put("id", r.envelopeId()).put("correlation_id", r.correlationId())
        .put("user_id", r.userId()).put("content", r.content()).put("channel_id", r.channelId()).put("platform", r.platform())
        .put("stream_id", r.entryId());
    if (r.enqueuedAt() != null) {
      n.put("enqueued_at", r.enqueuedAt());
    }
    if (e instanceof InboundEnvelope in && !in.attachments().isEmpty()) {
      ArrayNode a = n.putArray("attachments");
      for (Attachment at : in.attachments()) {
        a.addObject().put("name", at.name()).put("mime", at.mime()).put("data", Base64.getEncoder().encodeToString(at.data()));
      }
    }
    return n;
  }

  static int limit(String raw) {
    if (raw == null || raw.isBlank()) {
      return DEFAULT_LIMIT;
    }
    try {
      int n = Integer.parseInt(raw.trim());
      if (n < 1 || n > MAX_LIMIT) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiError.badRequest("invalid_limit", "limit must be an integer from 1 to " + MAX_LIMIT);
    }
  }

  static Cursor cursor(String raw) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      return Cursor.decode(raw.trim());
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("invalid_cursor", "before must be a next_before value from an earlier page");
    }
  }

  /** PostgreSQL did not answer: 503 {@code journal_unavailable} (the cause is logged, never sent). */
  static final class JournalUnavailable extends ApiError {
    JournalUnavailable(Throwable cause) {
      super(503, "journal_unavailable", "the history cannot be read now; retry later");
      initCause(cause);
      org.slf4j.LoggerFactory.getLogger(HistoryRoute.class).warn("history: the journal could not be read: {}", cause.toString());
    }
  }
}
