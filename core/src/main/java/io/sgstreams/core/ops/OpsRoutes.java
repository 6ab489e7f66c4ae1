package io.sgstreams.core.ops;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.json.Json;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * {@code GET /health} (liveness: the process answers), {@code GET /ready} (every
 * {@link Readiness} check passes: 200, else 503 with the failing checks) and
 * {@code GET /metrics} (Prometheus text format). Mounted on each node's admin port (standalone:
 * the one admin server); the gateway's public port serves {@code /health} only.
 */
public final class OpsRoutes {
  private OpsRoutes() {}

  public static Consumer<HttpServerRoutes> routes(PrometheusMeterRegistry registry, Readiness readiness) {
    return r -> r
        .get("/health", health())
        .get("/ready", (req, res) -> readiness.check().flatMap(rep -> res
            .status(rep.ready() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE)
            .header("Content-Type", "application/json")
            .sendString(Mono.just(json(rep)))
            .then()))
        .get("/metrics", (req, res) -> res.status(HttpResponseStatus.OK)
            .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .sendString(Mono.fromCallable(registry::scrape)));
  }

  /** {@code GET /health} alone: liveness, nothing about the process (the gateway's public port serves it). */
  public static BiFunction<HttpServerRequest, HttpServerResponse, Publisher<Void>> health() {
    return (req, res) -> res.status(HttpResponseStatus.OK)
        .header("Content-Type", "application/json")
        .sendString(Mono.fromCallable(() -> Json.write(Json.object().put("status", "ok"))));
  }

  static String json(Readiness.Report rep) {
    ObjectNode n = Json.object().put("status", rep.ready() ? "ready" : "not_ready");
    ObjectNode checks = n.putObject("checks");
    rep.checks().forEach(checks::put);
    return Json.write(n);
  }
}
