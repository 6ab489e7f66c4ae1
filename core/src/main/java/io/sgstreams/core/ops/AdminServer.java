package io.sgstreams.core.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The ops endpoints on a port of their own for each node ({@code gateway.admin_port}, default
 * 9091; {@code worker.admin_port}, {@code tools.admin_port}, default 9090); {@code sg standalone}
 * runs one for all its roles.
 */
public final class AdminServer {
  public static final int DEFAULT_PORT = 9090;

  private AdminServer() {}

  /** Binds now; {@code port} 0 picks a free port ({@link DisposableServer#port()}). */
  public static DisposableServer start(String host, int port, PrometheusMeterRegistry registry, Readiness readiness) {
    return start(host, port, registry, readiness, r -> { });
  }

  /** The same, with {@code more} routes (the gateway's monitoring API, {@link OpsApi}). */
  public static DisposableServer start(String host, int port, PrometheusMeterRegistry registry, Readiness readiness,
      java.util.function.Consumer<reactor.netty.http.server.HttpServerRoutes> more) {
    return HttpServer.create()
        .host(host)
        .port(port)
        .route(r -> {
          OpsRoutes.routes(registry, readiness).accept(r);
          more.accept(r);
        })
        .bindNow();
  }
}
