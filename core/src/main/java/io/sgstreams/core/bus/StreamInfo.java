package io.sgstreams.core.bus;

import java.util.List;

/**
 * What XINFO STREAM and XINFO GROUPS report about one stream.
 *
 * @param length XLEN
 * @param firstEntryId oldest entry still in the stream, or null when empty
 * @param lastGeneratedId the id of the last entry ever added
 * @param groups one per consumer group
 */
public record StreamInfo(String stream, long length, String firstEntryId, String lastGeneratedId, List<GroupInfo> groups) {
  public StreamInfo {
    groups = List.copyOf(groups);
  }
}
