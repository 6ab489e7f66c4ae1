package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/** A JSON response: status, body, extra headers. */
public record HttpResult(int status, JsonNode body, Map<String, String> headers) {
  public HttpResult {
    headers = Map.copyOf(headers);
  }

  public static HttpResult of(int status, JsonNode body) {
    return new HttpResult(status, body, Map.of());
  }
}
