package io.sgstreams.gateway.fanout;

/** A subscriber's bounded queue overflowed: it is disconnected rather than buffered without bound. */
public final class SlowConsumerException extends RuntimeException {
  public SlowConsumerException(String channel, int capacity) {
    super("subscriber of channel '" + channel + "' fell " + capacity + " replies behind and was disconnected");
  }
}
