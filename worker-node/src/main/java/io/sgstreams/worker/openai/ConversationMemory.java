package io.sgstreams.worker.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.topology.StreamKeys;
import io.sgstreams.journal.JournalRow;
import io.sgstreams.journal.JournalStore;
import io.sgstreams.worker.internal.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * The recent turns of one conversation (tenant, platform, channel) for the model: a capped list in
 * Redis with an expiry (core's {@code CappedLists}), key {@code {prefix}:{hash}} built with core's
 * key builder (the hash keeps user-chosen channel ids out of the key's syntax). A turn is the
 * user's message and the answer, stored together once the answer is final; a rerun of the same
 * message (after a crash) does not store it twice.
 *
 * <p>With the journal ({@code POSTGRES_URL}), the turns come from it — the conversation's
 * journaled messages and their final answers — and the Redis record is the fallback: used when
 * the journal cannot be read within {@link #JOURNAL_WAIT} or has no turn of this conversation yet
 * (it is written either way).
 */
final class ConversationMemory {
  private final RedisEventBus bus;
  private final String prefix;
  private final int turns;
  private final int maxChars;
  private final Duration ttl;
  private final JournalStore journal;
  static final Duration JOURNAL_WAIT = Duration.ofSeconds(2);

  ConversationMemory(RedisEventBus bus, String prefix, int turns, int maxChars, Duration ttl) {
    this(bus, prefix, turns, maxChars, ttl, null);
  }

  ConversationMemory(RedisEventBus bus, String prefix, int turns, int maxChars, Duration ttl, JournalStore journal) {
    this.journal = journal;
    this.bus = bus;
    this.prefix = prefix;
    this.turns = turns;
    this.maxChars = maxChars;
    this.ttl = ttl;
  }

  boolean enabled() {
    return turns > 0;
  }

  String key(InboundEnvelope in) {
    return StreamKeys.child(prefix, hash(in.tenant() + '\u0000' + in.platform() + '\u0000' + in.channelId()));
  }

  /**
   * The messages of the last turns, oldest first, at most {@code maxChars} of content (the oldest
   * turns go first); empty when memory is off or nothing is stored. A read failure is no history.
   */
  Mono<List<ObjectNode>> recall(InboundEnvelope in) {
    if (!enabled()) {
      return Mono.just(List.of());
    }
    Mono<List<ObjectNode>> fromRedis = bus.lists().last(key(in), turns * 2)
        .map(items -> {
          List<ObjectNode> messages = new ArrayList<>();
          for (byte[] item : items) {
            ObjectNode m = parse(item);
            if (m != null) {
              messages.add(m);
            }
          }
          return bound(messages);
        })
        .onErrorReturn(List.of());
    if (journal == null) {
      return fromRedis;
    }
    return journal.recentTurns(in.tenant(), in.platform(), in.channelId(), turns * 3)
        .collectList()
        .timeout(JOURNAL_WAIT)
        .map(rows -> bound(turnsOf(rows, in.id())))
        .onErrorResume(e -> Mono.just(List.of()))
        .flatMap(fromJournal -> fromJournal.isEmpty() ? fromRedis : Mono.just(fromJournal));
  }

  /**
   * The answered turns among journal rows (oldest first): each user message followed by its final
   * answer; the message being answered now, and messages without an answer, left out.
   */
  static List<ObjectNode> turnsOf(List<JournalRow> rows, String currentId) {
    java.util.Map<String, String> answers = new java.util.HashMap<>();
    for (JournalRow r : rows) {
      if ("outbound".equals(r.kind()) && r.inReplyTo() != null && r.content() != null) {
        answers.putIfAbsent(r.inReplyTo(), r.content());
      }
    }
    List<ObjectNode> out = new ArrayList<>();
    for (JournalRow r : rows) {
      if ("inbound".equals(r.kind()) && !r.envelopeId().equals(currentId) && answers.containsKey(r.envelopeId())) {
        out.add(Json.object().put("role", "user").put("content", r.content() == null ? "" : r.content()));
        out.add(Json.object().put("role", "assistant").put("content", answers.get(r.envelopeId())));
      }
    }
    return out;
  }

  /** The last {@code turns} turns within {@code maxChars} (oldest dropped first), starting with a user message. */
  private List<ObjectNode> bound(List<ObjectNode> oldestFirst) {
    List<ObjectNode> messages = new ArrayList<>();
    int chars = 0;
    int from = Math.max(0, oldestFirst.size() - turns * 2);
    for (int i = oldestFirst.size() - 1; i >= from; i--) { // newest first, to drop the oldest past the bound
      ObjectNode m = oldestFirst.get(i);
      chars += m.path("content").asText("").length();
      if (chars > maxChars) {
        break;
      }
      messages.add(0, m);
    }
    // a conversation starts with a user message: never a dangling answer
    while (!messages.isEmpty() && !"user".equals(messages.get(0).path("role").asText())) {
      messages.remove(0);
    }
    return messages;
  }

  /** Stores the turn (question and final answer); best effort, at most once per inbound message. */
  Mono<Void> remember(InboundEnvelope in, String answer) {
    if (!enabled()) {
      return Mono.empty();
    }
    ObjectNode user = Json.object().put("role", "user").put("content", in.content()).put("id", in.id());
    ObjectNode assistant = Json.object().put("role", "assistant").put("content", answer).put("id", in.id());
    return bus.lists()
        .append(key(in), List.of(Json.writeBytes(user), Json.writeBytes(assistant)), turns * 2, ttl,
            "\"id\":\"" + in.id() + "\"")
        .onErrorResume(e -> Mono.empty())
        .then();
  }

  private static ObjectNode parse(byte[] item) {
    try {
      JsonNode n = Json.readTree(item);
      if (n instanceof ObjectNode o && o.path("role").isTextual() && o.path("content").isTextual()) {
        ObjectNode m = Json.object().put("role", o.get("role").asText()).put("content", o.get("content").asText());
        return m;
      }
    } catch (Exception ignored) {
      // a damaged item is left out
    }
    return null;
  }

  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
