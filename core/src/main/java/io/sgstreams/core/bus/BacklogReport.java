package io.sgstreams.core.bus;

import java.util.OptionalLong;

/**
 * Whether a group's unread backlog is near the stream's cap: XADD's approximate trimming would
 * then delete entries the group has never read.
 *
 * @param lag unread entries, empty when Redis cannot tell
 * @param maxLen the stream's cap
 * @param ratio lag / maxLen, NaN when lag is unknown
 * @param atRisk lag at or above {@link #RISK_RATIO} of the cap
 */
public record BacklogReport(String stream, String group, long length, OptionalLong lag, long pending, long maxLen, double ratio, boolean atRisk) {
  public static final double RISK_RATIO = 0.8;

  public static BacklogReport of(String stream, String group, long length, OptionalLong lag, long pending, long maxLen) {
    double ratio = lag.isPresent() ? (double) lag.getAsLong() / maxLen : Double.NaN;
    return new BacklogReport(stream, group, length, lag, pending, maxLen, ratio, lag.isPresent() && ratio >= RISK_RATIO);
  }
}
