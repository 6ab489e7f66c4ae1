package io.sgstreams.core.topology;

/** A consumer group on a stream: the unit that is provisioned, read, and monitored. */
public record StreamGroup(String stream, String group) {
  public StreamGroup {
    if (stream == null || stream.isBlank() || group == null || group.isBlank()) {
      throw new IllegalArgumentException("stream and group must not be empty");
    }
  }

  @Override
  public String toString() {
    return stream + "/" + group;
  }
}
