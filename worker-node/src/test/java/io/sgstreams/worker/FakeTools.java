package io.sgstreams.worker;

import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.consume.HandlerResult;
import io.sgstreams.core.consume.ReceiverOptions;
import io.sgstreams.core.consume.Reply;
import io.sgstreams.core.consume.Router;
import io.sgstreams.core.envelope.ToolReply;
import io.sgstreams.core.envelope.ToolRequest;
import io.sgstreams.core.testing.TestRedis;
import io.sgstreams.core.topology.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Mono;

/**
 * A tiny tools node for tests, with the tools node's wire behaviour: reads ToolRequests from the
 * tools stream (group toolsGroup) and publishes one ToolReply to each request's reply_to.
 * Tools: {@code calc} (only "A*B" / "A+B"), {@code echo}, {@code fail} (a tool error), and
 * {@code slow} (answers after {@code args.ms}).
 */
final class FakeTools implements AutoCloseable {
  final RedisEventBus bus;
  final Router router;
  final List<ToolRequest> requests = new CopyOnWriteArrayList<>();

  FakeTools(String redisUrl, SgConfig config) {
    bus = TestRedis.bus(redisUrl, Role.TOOLS, config.withNodeId("fake-tools"));
    bus.ensureGroup(config.topology().toolsStream(), config.topology().toolsGroup()).block();
    ReceiverOptions opts = ReceiverOptions.of(config.topology().toolsStream(), config.topology().toolsGroup(),
        bus.consumerName(), bus.config().consumer());
    router = Router.create(bus, opts, d -> {
      ToolRequest req = (ToolRequest) d.envelope();
      requests.add(req);
      return answer(req).map(r -> HandlerResult.of(Reply.to(req.replyTo(), r)));
    }).start();
  }

  private static Mono<ToolReply> answer(ToolRequest req) {
    Map<String, Object> args = req.args();
    switch (req.tool()) {
      case "calc": {
        String expr = String.valueOf(args.get("expr"));
        String[] mul = expr.split("\\*");
        if (mul.length == 2) {
          return Mono.just(ToolReply.success(req, Long.parseLong(mul[0].trim()) * Long.parseLong(mul[1].trim())));
        }
        String[] add = expr.split("\\+");
        if (add.length == 2) {
          return Mono.just(ToolReply.success(req, Long.parseLong(add[0].trim()) + Long.parseLong(add[1].trim())));
        }
        return Mono.just(ToolReply.failure(req, "bad_args", "cannot evaluate " + expr));
      }
      case "echo":
        return Mono.just(ToolReply.success(req, args));
      case "fail":
        return Mono.just(ToolReply.failure(req, "tool_error", "it failed on purpose"));
      case "slow":
        return Mono.delay(Duration.ofMillis(((Number) args.get("ms")).longValue()))
            .thenReturn(ToolReply.success(req, "slow done"));
      default:
        return Mono.just(ToolReply.failure(req, "unknown_tool", "no tool named " + req.tool()));
    }
  }

  @Override
  public void close() {
    router.shutdown().block(Duration.ofSeconds(10));
    bus.close();
  }
}
