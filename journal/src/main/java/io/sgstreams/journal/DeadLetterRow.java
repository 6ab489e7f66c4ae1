package io.sgstreams.journal;

import io.sgstreams.core.bus.EntryIds;
import io.sgstreams.core.bus.StreamFields;
import io.sgstreams.core.consume.DeadLetterQueue;
import io.sgstreams.core.consume.DeadLetters;
import io.sgstreams.core.consume.Delivery;
import io.sgstreams.core.envelope.Envelope;
import io.sgstreams.core.envelope.EnvelopeCodec;
import java.time.Instant;
import java.util.Map;

/**
 * One row of {@code sg_dead_letters}: a DLQ entry (wire contract fields), what its original
 * envelope says (when its data is there and decodes), and what became of it ({@code sg dlq
 * replay}, {@code purge}).
 */
public record DeadLetterRow(
    String stream,
    String entryId,
    String originalStream,
    String originalId,
    String group,
    String consumer,
    Long deliveries,
    String error,
    Long deadAt,
    String traceId,
    String kind,
    String envelopeId,
    String tenantId,
    String platform,
    String channelId,
    byte[] data,
    Instant replayedAt,
    String replayedBy,
    String replayEntryId,
    Instant purgedAt) {

  public long entryMs() {
    return EntryIds.millis(entryId);
  }

  public long entrySeq() {
    return EntryIds.sequence(entryId);
  }

  /** The row of a delivery read from the DLQ stream. */
  public static DeadLetterRow of(Delivery d) {
    Map<String, byte[]> f = d.fields();
    byte[] data = f.get(StreamFields.DATA);
    Envelope e = d.decodeError().isPresent() ? null : d.envelope();
    return new DeadLetterRow(d.stream(), d.id(),
        StreamFields.string(f, DeadLetters.ORIGINAL_STREAM), StreamFields.string(f, DeadLetters.ORIGINAL_ID),
        JournalRow.emptyToNull(StreamFields.string(f, DeadLetters.GROUP)),
        JournalRow.emptyToNull(StreamFields.string(f, DeadLetters.CONSUMER)),
        number(StreamFields.string(f, DeadLetters.DELIVERIES)),
        JournalRow.emptyToNull(StreamFields.string(f, DeadLetters.ERROR)),
        number(StreamFields.string(f, StreamFields.TS)),
        JournalRow.emptyToNull(StreamFields.string(f, StreamFields.TRACE_ID)),
        e == null ? (data == null || data.length == 0 ? null : JournalRow.UNDECODABLE) : e.kind().wire(),
        e == null ? null : e.id(), e == null ? null : e.tenant(), e == null ? null : e.platform(),
        e == null ? null : e.channelId(), data == null || data.length == 0 ? null : data, null, null, null, null);
  }

  /**
   * The row of a dead letter read from the DLQ stream {@code dlqStream} by an operator command (before
   * the journal consumer got to it: both insert on conflict do nothing, so whichever comes second is a no-op).
   */
  public static DeadLetterRow of(String dlqStream, DeadLetterQueue.DeadLetter d, EnvelopeCodec codec) {
    byte[] data = d.data().length == 0 ? null : d.data();
    Envelope e = null;
    if (data != null) {
      try {
        e = codec.decode(data);
      } catch (RuntimeException x) {
        e = null;
      }
    }
    return new DeadLetterRow(dlqStream, d.id(), d.originalStream(), d.originalId(), JournalRow.emptyToNull(d.group()),
        JournalRow.emptyToNull(d.consumer()), d.deliveries(), JournalRow.emptyToNull(d.error()), d.deadAt().toEpochMilli(),
        JournalRow.emptyToNull(d.traceId()), e == null ? (data == null ? null : JournalRow.UNDECODABLE) : e.kind().wire(),
        e == null ? null : e.id(), e == null ? null : e.tenant(), e == null ? null : e.platform(),
        e == null ? null : e.channelId(), data, null, null, null, null);
  }

  private static Long number(String s) {
    try {
      return s == null || s.isEmpty() ? null : Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
