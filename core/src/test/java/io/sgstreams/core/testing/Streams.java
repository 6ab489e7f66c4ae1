package io.sgstreams.core.testing;

import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.sgstreams.core.bus.RedisEventBus;
import java.util.List;
import java.util.Map;

/** Reading streams back in tests, through the bus's own connection. */
public final class Streams {
  private Streams() {}

  public static List<StreamMessage<String, byte[]>> all(RedisEventBus bus, String stream) {
    return bus.connections().commands().xrange(stream, Range.create("-", "+")).collectList().block();
  }

  public static long length(RedisEventBus bus, String stream) {
    return bus.connections().commands().xlen(stream).block();
  }

  public static long pending(RedisEventBus bus, String stream, String group) {
    return bus.pendingCount(stream, group).block();
  }

  public static String add(RedisEventBus bus, String stream, Map<String, byte[]> fields) {
    return bus.connections().commands().xadd(stream, fields).block();
  }
}
