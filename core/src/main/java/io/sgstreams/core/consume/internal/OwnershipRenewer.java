package io.sgstreams.core.consume.internal;

import io.lettuce.core.ScriptOutputType;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.redis.internal.RedisScript;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * Keeps the entries this consumer holds its own while it lives: every third of
 * {@code claim_min_idle} it resets their idle time with {@code XCLAIM … JUSTID} (which leaves
 * the delivery count alone), so other consumers' claimers never find them idle, however long a
 * handler runs or an entry waits behind its conversation.
 *
 * <p>Check and claim are one script on one key: only ids that XPENDING still shows under this
 * consumer are renewed. An id held here but owned by another consumer now (this one stalled past
 * {@code claim_min_idle} and was claimed from) is never taken back: its delivery is marked lost,
 * and the Router drops its result.
 */
final class OwnershipRenewer {
  private static final Logger log = LoggerFactory.getLogger(OwnershipRenewer.class);
  /** Ids per script call (the script unpacks them into one XCLAIM). */
  static final int BATCH = 500;

  /** KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3..] ids held. Returns the ids renewed. */
  static final RedisScript RENEW = new RedisScript("renew", """
      local cmd = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}
      local n = 0
      for i = 3, #ARGV do
        local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
        if p[1] and p[1][2] == ARGV[2] then
          cmd[#cmd + 1] = ARGV[i]
          n = n + 1
        end
      end
      if n == 0 then return {} end
      cmd[#cmd + 1] = 'JUSTID'
      return redis.call(unpack(cmd))
      """, ScriptOutputType.MULTI);

  private final DefaultStreamReceiver rx;
  private final ReceiverOptions options;
  final String stream;
  private final AtomicBoolean busy = new AtomicBoolean();
  private int failures;

  OwnershipRenewer(DefaultStreamReceiver rx, String stream) {
    this.rx = rx;
    this.options = rx.options();
    this.stream = stream;
  }

  void tick() {
    List<String> held = rx.held().ids(stream);
    if (held.isEmpty() || !busy.compareAndSet(false, true)) {
      return;
    }
    List<List<String>> batches = new ArrayList<>();
    for (int i = 0; i < held.size(); i += BATCH) {
      batches.add(held.subList(i, Math.min(held.size(), i + BATCH)));
    }
    String[] keys = {stream};
    Flux.fromIterable(batches)
        .concatMap(batch -> {
          byte[][] args = new byte[batch.size() + 2][];
          args[0] = RedisScript.arg(options.group());
          args[1] = RedisScript.arg(options.consumer());
          for (int i = 0; i < batch.size(); i++) {
            args[i + 2] = RedisScript.arg(batch.get(i));
          }
          return RENEW.<List<Object>>run(rx.bus().connections(), keys, args)
              .map(renewed -> {
                Set<String> mine = new HashSet<>();
                renewed.forEach(o -> mine.add(RedisScript.text(o)));
                rx.metrics().renewed(stream, options.group(), mine.size());
                List<String> lost = new ArrayList<>();
                for (String id : batch) {
                  if (!mine.contains(id)) {
                    lost.add(id);
                  }
                }
                return lost;
              });
        })
        .subscribe(lost -> {
          if (!lost.isEmpty()) {
            rx.lose(stream, lost);
          }
        }, e -> {
          busy.set(false);
          failures++;
          if (failures == 1 || failures % 20 == 0) {
            log.warn("consumer {} could not renew its {} entries on {} (attempt {}); if this lasts {}, other consumers may take them over: {}",
                options.consumer(), held.size(), stream, failures, options.claimMinIdle(), e.toString());
          }
        }, () -> {
          failures = 0;
          busy.set(false);
        });
  }
}
