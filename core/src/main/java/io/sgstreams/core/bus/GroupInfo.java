package io.sgstreams.core.bus;

import java.util.OptionalLong;

/**
 * One consumer group as XINFO GROUPS reports it.
 *
 * @param pending entries delivered and not yet acknowledged (the group's PEL)
 * @param lag entries not yet delivered to the group; empty when Redis cannot tell (it answers
 *     nil, e.g. after entries were trimmed or deleted in the middle of the range): unknown is
 *     never reported as 0
 */
public record GroupInfo(String name, long consumers, long pending, String lastDeliveredId, OptionalLong entriesRead, OptionalLong lag) {}
