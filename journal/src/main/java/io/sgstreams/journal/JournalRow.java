package io.sgstreams.journal;

import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.InboundEnvelope;
import io.sgstreams.core.envelope.OutboundEnvelope;

/**
 * One row of {@code sg_journal}: a stream entry and what queries need of its envelope, plus the
 * entry's {@code data} bytes unchanged. {@code kind} is {@code undecodable} (and the envelope
 * columns null, tenant {@code default}) for an entry whose data is not a valid envelope.
 */
public record JournalRow(
    String stream,
    String entryId,
    String kind,
    String envelopeId,
    String correlationId,
    String tenantId,
    String platform,
    String channelId,
    String userId,
    String type,
    String inReplyTo,
    String content,
    Long enqueuedAt,
    String replayOf,
    byte[] data) {

  public static final String UNDECODABLE = "undecodable";

  public long entryMs() {
    return EntryIds.millis(entryId);
  }

  public long entrySeq() {
    return EntryIds.sequence(entryId);
  }

  /** The row of {@code d} (any stream but the DLQ). */
  public static JournalRow of(Delivery d) {
    byte[] data = d.data() == null ? new byte[0] : d.data();
    String replayOf = emptyToNull(StreamFields.string(d.fields(), StreamFields.REPLAY_OF));
    if (d.decodeError().isPresent()) {
      return new JournalRow(d.stream(), d.id(), UNDECODABLE, null, null, Envelope.DEFAULT_TENANT, null, null, null, null,
          null, null, null, replayOf, data);
    }
    Envelope e = d.envelope();
    String userId = null;
    String type = null;
    String inReplyTo = null;
    String content = null;
    if (e instanceof InboundEnvelope in) {
      userId = in.userId();
      content = in.content();
    } else if (e instanceof OutboundEnvelope o) {
      type = o.type();
      inReplyTo = o.inReplyTo();
      content = o.content();
    }
    return new JournalRow(d.stream(), d.id(), e.kind().wire(), e.id(), e.correlationId(), e.tenant(), e.platform(),
        e.channelId(), userId, type, inReplyTo, content, e.enqueuedAt(), replayOf, data);
  }

  static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
