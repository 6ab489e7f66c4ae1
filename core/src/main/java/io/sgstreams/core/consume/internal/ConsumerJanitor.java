package io.sgstreams.core.consume.internal;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.redis.internal.RedisScript;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes consumers that have been idle longer than {@code remove_idle_consumers_after} with
 * nothing pending from the group ({@code XGROUP DELCONSUMER}), so groups do not fill with the
 * names of pods long gone (Watermill's {@code checkConsumers}). The check and the removal are one
 * script, so a consumer that took an entry meanwhile is never removed with its pending entries.
 */
final class ConsumerJanitor {
  private static final Logger log = LoggerFactory.getLogger(ConsumerJanitor.class);

  /** KEYS[1] stream; ARGV[1] group, ARGV[2] idle ms, ARGV[3] this consumer (kept). Returns the names removed. */
  static final RedisScript REMOVE_IDLE = new RedisScript("remove-idle-consumers", """
      local removed = {}
      local minIdle = tonumber(ARGV[2])
      for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
        local name, pending, idle
        for i = 1, #c, 2 do
          if c[i] == 'name' then name = c[i + 1]
          elseif c[i] == 'pending' then pending = c[i + 1]
          elseif c[i] == 'idle' then idle = c[i + 1] end
        end
        if name ~= ARGV[3] and pending == 0 and idle >= minIdle then
          redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
          removed[#removed + 1] = name
        end
      end
      return removed
      """, ScriptOutputType.MULTI);

  private final DefaultStreamReceiver rx;
  private final ReceiverOptions options;
  private final String stream;

  ConsumerJanitor(DefaultStreamReceiver rx, String stream) {
    this.rx = rx;
    this.options = rx.options();
    this.stream = stream;
  }

  void tick() {
    REMOVE_IDLE.<List<Object>>run(rx.bus().connections(), new String[] {stream},
            RedisScript.arg(options.group()),
            RedisScript.arg(options.removeIdleConsumersAfter().toMillis()),
            RedisScript.arg(options.consumer()))
        .subscribe(removed -> {
          if (!removed.isEmpty()) {
            List<String> names = new ArrayList<>();
            removed.forEach(o -> names.add(RedisScript.text(o)));
            rx.metrics().consumersRemoved(stream, options.group(), names.size());
            log.info("removed {} consumers idle over {} with nothing pending from group {} on {}: {}",
                names.size(), options.removeIdleConsumersAfter(), options.group(), stream, names);
          }
        }, e -> log.debug("idle-consumer check on {} failed: {}", stream, e.toString()));
  }
}
