package io.sgstreams.core.bus;

/** A stream operation failed; carries where (stream, group, consumer, entry id) when known. */
public class StreamException extends RuntimeException {
  private final String stream;
  private final String group;
  private final String consumer;
  private final String entryId;

  public StreamException(String message, String stream, String group, String consumer, String entryId, Throwable cause) {
    super(message + context(stream, group, consumer, entryId), cause);
    this.stream = stream;
    this.group = group;
    this.consumer = consumer;
    this.entryId = entryId;
  }

  public String stream() {
    return stream;
  }

  public String group() {
    return group;
  }

  public String consumer() {
    return consumer;
  }

  public String entryId() {
    return entryId;
  }

  private static String context(String stream, String group, String consumer, String entryId) {
    StringBuilder b = new StringBuilder(" [");
    if (stream != null) b.append("stream=").append(stream);
    if (group != null) b.append(" group=").append(group);
    if (consumer != null) b.append(" consumer=").append(consumer);
    if (entryId != null) b.append(" id=").append(entryId);
    return b.append(']').toString();
  }
}
