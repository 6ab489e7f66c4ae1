package io.sgstreams.bench.roundtrip;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.Unpooled;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.json.Json;
import java.util.Map;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * {@code --via http}: {@code POST /v1/messages?wait=30} to the gateway on {@code 127.0.0.1:port};
 * a 200 response carries the reply, any other status is an error.
 */
final class HttpRequestSender implements RequestSender {
  private final ConnectionProvider connections;
  private final HttpClient http;

  /** @param inflight the closed loop's outstanding requests: one connection each (at least 64) */
  HttpRequestSender(int port, int inflight) {
    this.connections = ConnectionProvider.builder("bench").maxConnections(Math.max(64, inflight))
        .pendingAcquireMaxCount(-1).build();
    this.http = HttpClient.create(connections)
        .baseUrl("http://127.0.0.1:" + port)
        .headers(h -> h.set("Content-Type", "application/json"));
  }

  @Override
  public void send(InboundEnvelope request, Outcome outcome) {
    String cid = request.correlationId();
    ObjectNode body = Json.object();
    body.put("platform", "web");
    body.put("channel_id", request.channelId());
    body.put("user_id", "bench");
    body.put("content", request.content());
    body.put("correlation_id", cid);
    byte[] bytes = Json.writeBytes(body);
    http.post().uri("/v1/messages?wait=30")
        .send(Mono.fromSupplier(() -> Unpooled.wrappedBuffer(bytes)))
        .responseSingle((res, buf) -> buf.asString().defaultIfEmpty("").map(s -> Map.entry(res.status().code(), s)))
        .subscribe(r -> {
          if (r.getKey() == 200) {
            outcome.answered(cid);
          } else {
            outcome.failed(cid);
          }
        }, e -> outcome.failed(cid));
  }

  @Override
  public void close() {
    connections.dispose();
  }
}
