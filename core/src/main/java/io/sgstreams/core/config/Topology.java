package io.sgstreams.core.config;

import io.sgstreams.core.topology.StreamKeys;
import java.util.List;

/**
 * Stream and group names (the wire contract's defaults, overridable), stream caps and the
 * platforms this deployment serves. Every key is derived through {@link StreamKeys}.
 */
public record Topology(
    String inboundStream,
    String workerGroup,
    String outboundStreamPrefix,
    String gatewayGroupPrefix,
    String toolsStream,
    String toolsGroup,
    String toolsReplyPrefix,
    String dlqStream,
    long maxLen,
    long dlqMaxLen,
    List<String> platforms) {

  /** XADD caps below this are raised to it (wire contract). */
  public static final long MIN_MAXLEN = 1000;

  public Topology {
    requireName("inbound stream", inboundStream);
    requireName("worker group", workerGroup);
    requireName("outbound stream prefix", outboundStreamPrefix);
    requireName("gateway group prefix", gatewayGroupPrefix);
    requireName("tools stream", toolsStream);
    requireName("tools group", toolsGroup);
    requireName("tools reply prefix", toolsReplyPrefix);
    requireName("dlq stream", dlqStream);
    maxLen = Math.max(MIN_MAXLEN, maxLen);
    dlqMaxLen = Math.max(MIN_MAXLEN, dlqMaxLen);
    platforms = List.copyOf(platforms);
    platforms.forEach(StreamKeys::requireSegment);
  }

  public static Topology defaults() {
    return new Topology(
        "sg:stream:inbound",
        "sg:workers",
        "sg:stream:outbound",
        "sg:gateway",
        "sg:stream:tools",
        "sg:tools",
        "sg:stream:tools:reply",
        "sg:stream:dlq",
        100_000,
        1_000_000,
        List.of("web", "webhook"));
  }

  /** {@code sg:stream:outbound:{platform}}. */
  public String outboundStream(String platform) {
    return StreamKeys.child(outboundStreamPrefix, platform);
  }

  /** {@code sg:gateway:{platform}}. */
  public String gatewayGroup(String platform) {
    return StreamKeys.child(gatewayGroupPrefix, platform);
  }

  /** {@code sg:stream:tools:reply:{workerId}}. */
  public String toolsReplyStream(String workerId) {
    return StreamKeys.child(toolsReplyPrefix, workerId);
  }

  /** The cap used when adding to {@code stream}: the DLQ has its own. */
  public long maxLenFor(String stream) {
    return dlqStream.equals(stream) ? dlqMaxLen : maxLen;
  }

  public Topology withMaxLen(long n) {
    return new Topology(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream,
        toolsGroup, toolsReplyPrefix, dlqStream, n, dlqMaxLen, platforms);
  }

  public Topology withPlatforms(List<String> p) {
    return new Topology(inboundStream, workerGroup, outboundStreamPrefix, gatewayGroupPrefix, toolsStream,
        toolsGroup, toolsReplyPrefix, dlqStream, maxLen, dlqMaxLen, p);
  }

  /** Same topology with every stream and group name under another prefix (tests, benchmarks). */
  public Topology withNamespace(String ns) {
    return new Topology(ns + ":inbound", ns + ":workers", ns + ":outbound", ns + ":gateway", ns + ":tools",
        ns + ":tools-group", ns + ":tools:reply", ns + ":dlq", maxLen, dlqMaxLen, platforms);
  }

  private static void requireName(String what, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " must not be empty");
    }
  }
}
