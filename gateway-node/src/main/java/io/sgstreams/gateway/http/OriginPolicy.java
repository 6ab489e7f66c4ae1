package io.sgstreams.gateway.http;

import io.sgstreams.core.config.ValueType;
import java.util.List;
import reactor.netty.http.server.HttpServerRequest;

/**
 * Which browser pages may open a WebSocket: a WebSocket upgrade is not subject to CORS, so a
 * page of any site could otherwise talk to the gateway with whatever access its visitor has (a
 * gateway on their loopback address with auth off, a key in the page). A request without
 * {@code Origin} is not a browser's and passes; one whose origin is the gateway's own (its
 * {@code Host}) passes; any other must be listed in {@code SG_ALLOWED_ORIGINS} ({@code *}: any).
 */
public final class OriginPolicy {
  private final List<String> allowed;
  private final boolean any;

  /** @param allowed canonical origins ({@link ValueType#normalizeOrigin}) or {@code *} */
  public OriginPolicy(List<String> allowed) {
    this.allowed = List.copyOf(allowed);
    this.any = allowed.contains("*");
  }

  /** Throws 403 {@code origin_not_allowed} for a cross-origin browser request that is not allowed. */
  public void check(HttpServerRequest req) {
    String origin = req.requestHeaders().get("Origin");
    if (origin == null || any) {
      return;
    }
    String o = ValueType.normalizeOrigin(origin);
    if (o != null && (allowed.contains(o) || sameOrigin(o, req.requestHeaders().get("Host")))) {
      return;
    }
    throw new ApiError(403, "origin_not_allowed",
        "WebSocket connections from this origin are not allowed (SG_ALLOWED_ORIGINS lists the allowed ones)");
  }

  /** The page's origin is the gateway itself: its host and port are the request's {@code Host} (whichever scheme a proxy terminated). */
  private static boolean sameOrigin(String origin, String host) {
    if (host == null || host.isBlank() || host.contains("/") || host.contains("@")) {
      return false;
    }
    return origin.equals(ValueType.normalizeOrigin("http://" + host.trim()))
        || origin.equals(ValueType.normalizeOrigin("https://" + host.trim()));
  }
}
