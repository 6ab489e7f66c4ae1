package io.sgstreams.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.sgstreams.journal.testing.TestDatabases;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The journal's batch insert sends its columns as binary arrays ({@link BinaryArrays}): what
 * PostgreSQL stores must be exactly what was bound, for the values a text array had to quote or
 * escape, for non-ASCII text and for NULLs, and the envelope bytes as they were (zero bytes included).
 */
@Timeout(120)
class BinaryArraysTest {

  @Test
  void theWireFormatIsPostgresArraySend() {
    ByteBuf b = BinaryArrays.encode(BinaryArrays.text(new String[] {"é", null, ""}), UnpooledByteBufAllocator.DEFAULT);
    try {
      assertEquals(1, b.readInt(), "dimensions");
      assertEquals(1, b.readInt(), "has nulls");
      assertEquals(BinaryArrays.TEXT, b.readInt(), "element type");
      assertEquals(3, b.readInt(), "length of the dimension");
      assertEquals(1, b.readInt(), "lower bound");
      assertEquals(2, b.readInt());
      assertEquals("é", b.readCharSequence(2, StandardCharsets.UTF_8).toString());
      assertEquals(-1, b.readInt(), "NULL");
      assertEquals(0, b.readInt(), "empty string");
      assertEquals(0, b.readableBytes());
      assertEquals(b.capacity(), b.writerIndex(), "sized exactly");
    } finally {
      b.release();
    }
    ByteBuf l = BinaryArrays.encode(BinaryArrays.int8(new Long[] {-2L, Long.MAX_VALUE}), UnpooledByteBufAllocator.DEFAULT);
    try {
      l.skipBytes(4);
      assertEquals(0, l.readInt(), "no nulls");
      assertEquals(BinaryArrays.INT8, l.readInt());
      l.skipBytes(8);
      assertEquals(8, l.readInt());
      assertEquals(-2L, l.readLong());
      assertEquals(8, l.readInt());
      assertEquals(Long.MAX_VALUE, l.readLong());
    } finally {
      l.release();
    }
  }

  @Test
  void awkwardValuesRoundTripThroughPostgres() {
    String[] texts = {
        "plain", "", "NULL", "null", "with \"quotes\"", "back\\slash\\", "{braces}", "a,b", " lead and trail ",
        "tab\tnew\nline", "é à ü ß", "中文字符", "emoji 😀 and 🧪", "'single'", "\\x00", "\u007f", "ﬀ", "x".repeat(5000)};
    String stream = "sg:stream:inbound";
    List<JournalRow> rows = new ArrayList<>();
    for (int i = 0; i < texts.length; i++) {
      byte[] data = new byte[i * 37];
      for (int j = 0; j < data.length; j++) {
        data[j] = (byte) (j * 31 + i); // zero bytes and every high byte among them
      }
      boolean nulls = i % 3 == 1;
      rows.add(new JournalRow(stream, (1000 + i) + "-" + i, "inbound", "env-" + i, "corr-" + i, "acme", "web",
          texts[i], nulls ? null : texts[texts.length - 1 - i], nulls ? null : "message", nulls ? null : texts[i],
          texts[i], nulls ? null : 1_700_000_000_000L + i, nulls ? null : texts[i], data));
    }
    try (JournalStore store = JournalStore.connect(TestDatabases.fresh(), 2)) {
      store.migrate().block(Duration.ofSeconds(60));
      assertEquals((long) rows.size(), store.insertJournal(rows).block(Duration.ofSeconds(30)));
      assertEquals(0L, store.insertJournal(rows).block(Duration.ofSeconds(30)), "idempotent on (stream, entry id)");
      List<JournalRow> back = new ArrayList<>(store.stream(stream, 1000).collectList().block(Duration.ofSeconds(30)));
      back.sort(Comparator.comparing(JournalRow::entryMs));
      assertEquals(rows.size(), back.size());
      for (int i = 0; i < rows.size(); i++) {
        JournalRow w = rows.get(i);
        JournalRow r = back.get(i);
        String at = "row " + i + " (" + texts[i].substring(0, Math.min(20, texts[i].length())) + ")";
        assertEquals(w.entryId(), r.entryId(), at);
        assertEquals(w.entryMs(), r.entryMs(), at);
        assertEquals(w.entrySeq(), r.entrySeq(), at);
        assertEquals(w.channelId(), r.channelId(), at);
        assertEquals(w.content(), r.content(), at);
        assertEquals(w.userId(), r.userId(), at);
        assertEquals(w.type(), r.type(), at);
        assertEquals(w.inReplyTo(), r.inReplyTo(), at);
        assertEquals(w.replayOf(), r.replayOf(), at);
        assertEquals(w.enqueuedAt(), r.enqueuedAt(), at);
        assertArrayEquals(w.data(), r.data(), at);
        if (i % 3 == 1) {
          assertNull(r.userId(), at);
          assertNull(r.enqueuedAt(), at);
        }
      }
    }
  }
}
