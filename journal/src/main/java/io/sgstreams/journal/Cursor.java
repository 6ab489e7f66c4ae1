package io.sgstreams.journal;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A position in a conversation's history (entry time, sequence, stream), opaque to clients:
 * {@code base64url("ms-seq-stream")}. Entries of a conversation live on two streams (the inbound
 * one and its platform's outbound one); their ids order them in time, the stream breaks ties.
 */
public record Cursor(long entryMs, long entrySeq, String stream) {

  public String encode() {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString((entryMs + "-" + entrySeq + "-" + stream).getBytes(StandardCharsets.UTF_8));
  }

  /** @throws IllegalArgumentException when {@code text} is not a cursor this class wrote */
  public static Cursor decode(String text) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
      String[] p = s.split("-", 3);
      if (p.length != 3 || p[2].isEmpty()) {
        throw new IllegalArgumentException("not a history cursor");
      }
      return new Cursor(Long.parseLong(p[0]), Long.parseLong(p[1]), p[2]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a history cursor: " + text, e);
    }
  }
}
