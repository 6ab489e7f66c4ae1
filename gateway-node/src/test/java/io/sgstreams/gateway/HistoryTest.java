package io.sgstreams.gateway;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;
import io.sgstreams.core.testing.Streams;
import io.sgstreams.journal.testing.TestDatabases;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The journal behind the gateway: the history API pages a conversation without gaps or repeats
 * after the streams were trimmed to nothing, tenant-scoped; an SSE resume from an id the stream no
 * longer holds is served from the journal, with no reset.
 */
@Timeout(120)
class HistoryTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private final GatewayFixture fx = new GatewayFixture();

  @AfterEach
  void close() throws Exception {
    fx.close();
  }

  private void trimToZero(String... streams) {
    try (RedisClient client = RedisClient.create(fx.redisUrl); StatefulRedisConnection<String, String> c = client.connect()) {
      for (String s : streams) {
        c.sync().xtrim(s, 0);
      }
    }
  }

  private long journaled(GatewayNode gw, String stream) {
    // 0 until the journal has migrated its schema (it starts in the background)
    return gw.journal().store().count(stream).onErrorReturn(0L).block();
  }

  @Test
  void historyPagesAConversationWithoutGapsOrRepeatsAfterTheStreamsWereTrimmedAndOnlyForItsTenant() throws Exception {
    String db = TestDatabases.fresh();
    GatewayNode gw = fx.journaled("gw-h", db, "SG_API_KEYS", "acme:key-a,globex:key-g");
    fx.echoWorker("w1");
    Map<String, String> acme = Map.of("Authorization", "Bearer key-a");
    Map<String, String> globex = Map.of("Authorization", "Bearer key-g");
    for (int i = 0; i < 23; i++) {
      assertEquals(200, fx.post(gw, "/v1/messages?wait=10", GatewayFixture.message("h1", "m" + i), acme).statusCode());
    }
    // other conversations: another channel, and the same channel id under another tenant
    fx.post(gw, "/v1/messages?wait=10", GatewayFixture.message("h2", "elsewhere"), acme);
    fx.post(gw, "/v1/messages?wait=10", GatewayFixture.message("h1", "globex's"), globex);
    await().atMost(WITHIN).until(() -> journaled(gw, fx.inbound()) == 25 && journaled(gw, fx.outbound("web")) == 25);
    trimToZero(fx.inbound(), fx.outbound("web"));
    assertEquals(0, Streams.length(fx.probe, fx.outbound("web")));

    List<JsonNode> all = new ArrayList<>();
    String before = null;
    int pages = 0;
    do {
      HttpResponse<String> r = fx.get(gw, "/v1/channels/h1/messages?limit=7"
          + (before == null ? "" : "&before=" + URLEncoder.encode(before, StandardCharsets.UTF_8)), acme);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode body = GatewayFixture.json(r);
      body.get("messages").forEach(all::add);
      before = body.get("next_before").isNull() ? null : body.get("next_before").asText();
      pages++;
    } while (before != null);
    assertEquals(7, pages);
    assertEquals(46, all.size(), "23 requests and 23 answers");
    Set<String> ids = new HashSet<>();
    all.forEach(m -> assertTrue(ids.add(m.get("id").asText()), "repeated " + m));
    // newest first: the transcript read backwards is m0, answer m0, m1, answer m1, ...
    List<String> transcript = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0; i--) {
      JsonNode m = all.get(i);
      transcript.add(m.get("kind").asText() + ":" + m.get("content").asText());
    }
    for (int i = 0; i < 23; i++) {
      assertEquals("inbound:m" + i, transcript.get(2 * i));
      assertEquals("outbound:m" + i, transcript.get(2 * i + 1));
    }
    HttpResponse<String> theirs = fx.get(gw, "/v1/channels/h1/messages", globex);
    JsonNode g = GatewayFixture.json(theirs).get("messages");
    assertEquals(2, g.size(), theirs.body());
    g.forEach(m -> assertEquals("globex's", m.get("content").asText()));

    assertEquals(400, fx.get(gw, "/v1/channels/h1/messages?before=garbage", acme).statusCode());
    assertEquals(400, fx.get(gw, "/v1/channels/h1/messages?limit=0", acme).statusCode());
    assertEquals(401, fx.get(gw, "/v1/channels/h1/messages", Map.of()).statusCode());
  }

  @Test
  void historyWithoutAJournalIsAClearNotFound() throws Exception {
    GatewayNode gw = fx.gateway();
    HttpResponse<String> r = fx.get(gw, "/v1/channels/h1/messages", Map.of());
    assertEquals(404, r.statusCode());
    assertEquals("journal_off", GatewayFixture.json(r).get("error").get("code").asText());
  }

  @Test
  void anSseResumeFromAnIdTheStreamNoLongerHoldsIsServedFromTheJournalWithoutAReset() throws Exception {
    String db = TestDatabases.fresh();
    GatewayNode gw = fx.journaled("gw-r", db);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.add(fx.reply("r1", "reply " + i));
      fx.reply("other", "not r1 " + i);
    }
    // a streamed answer's deltas are not journaled; its final message is
    InboundEnvelope in = InboundEnvelope.create("web", "r1", "u", "q");
    fx.probe.publishOutbound("web", OutboundEnvelope.delta(in, 1, 0, "str")).block();
    fx.probe.publishOutbound("web", OutboundEnvelope.replyTo(in, "message", "streamed")).block();
    await().atMost(WITHIN).until(() -> journaled(gw, fx.outbound("web")) == 21
        && Streams.pending(fx.probe, fx.outbound("web"), fx.config.journal().group()) == 0);
    trimToZero(fx.outbound("web"));
    fx.reply("r1", "after trim 1");
    fx.reply("r1", "after trim 2");

    try (SseClient sse = new SseClient(fx.http, gw.port(), "/v1/channels/r1/events", Map.of("Last-Event-ID", ids.get(2)))) {
      await().atMost(WITHIN).until(() -> sse.named("message").size() >= 10);
      fx.reply("r1", "live");
      await().atMost(WITHIN).until(() -> sse.named("message").size() >= 11);
      List<String> contents = new ArrayList<>();
      for (SseClient.Event e : sse.named("message")) {
        contents.add(GatewayFixture.json(e.data()).get("content").asText());
      }
      assertEquals(List.of("reply 3", "reply 4", "reply 5", "reply 6", "reply 7", "reply 8", "reply 9", "streamed",
          "after trim 1", "after trim 2", "live"), contents);
      assertTrue(sse.named("reset").isEmpty(), "no reset: " + sse.named("reset"));
    }
  }
}
