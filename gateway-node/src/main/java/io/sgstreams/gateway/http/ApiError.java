package io.sgstreams.gateway.http;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A client-facing error: HTTP status, a stable machine code and a human message, rendered as
 * {@code {"error": {"code": ..., "message": ...}}}. Thrown while handling a request; never
 * logged as a server fault.
 */
public class ApiError extends RuntimeException {
  private final int status;
  private final String code;

  public ApiError(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static ApiError badRequest(String code, String message) {
    return new ApiError(400, code, message);
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** The JSON body. */
  public ObjectNode body() {
    ObjectNode root = Json.object();
    root.putObject("error").put("code", code).put("message", getMessage());
    return root;
  }
}
