package io.sgstreams.launcher;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.topology.Role;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * {@code sg}: one executable for every role, like Loki's {@code -target}. {@code standalone} runs
 * gateway, worker and tools in one process (with an embedded Redis when {@code REDIS_URL} is
 * unset); {@code gateway}, {@code worker} and {@code tools} run one role against {@code REDIS_URL};
 * {@code send} talks to a running gateway.
 */
public final class Sg {
  static final String HELP = """
      usage: sg COMMAND [options]

      Commands:
        standalone   gateway + worker + tools in one process; starts an embedded Redis when REDIS_URL is unset
        gateway      the HTTP/SSE/WebSocket gateway (needs REDIS_URL)
        worker       a worker consuming the inbound stream (needs REDIS_URL)
        tools        a tools node executing tool calls (needs REDIS_URL)
        send TEXT    post a message to a running gateway and print the reply
        bench        round-trip benchmark (publisher -> workers -> replies), one JSON line

      'sg COMMAND --help' describes each. Configuration: streams.yaml ($SG_CONFIG) and SG_*
      environment variables (README.md, "Configuration"). Ctrl-C or SIGTERM stops gracefully:
      in-flight work finishes, the rest stays pending for other nodes.
      """;

  static final String ROLE_HELP = """
      usage: sg %s

      Runs %s until Ctrl-C / SIGTERM, then drains gracefully.
      Redis: %s
      Settings come from the environment (README.md, "Configuration" and "Nodes"); the most used:
        SG_NODE_ID             stable node id (consumer names are {role}-{id}); default: host name
        SG_HTTP_HOST/PORT      gateway address (default 127.0.0.1:8080)
        SG_API_KEYS            gateway API keys (required when bound to a non-loopback address)
        SG_WORKER_HANDLER      echo | openai | a handler factory class (default echo)
        SG_ADMIN_PORT          worker/tools /health /ready /metrics port (default 9090; standalone puts tools on +1)
      """;

  private Sg() {}

  public static void main(String[] args) {
    int status = run(Arrays.asList(args), System.getenv(), System.out, System.err);
    if (status != Integer.MIN_VALUE) {
      System.exit(status);
    }
  }

  /** Runs a command; for the long-running roles, blocks until the process is told to stop. */
  static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals("help")) {
      (args.isEmpty() ? err : out).print(HELP);
      return args.isEmpty() ? 2 : 0;
    }
    String cmd = args.get(0);
    List<String> rest = args.subList(1, args.size());
    try {
      switch (cmd) {
        case "send": {
          Cli cli = Cli.parse(rest, Set.of("channel", "user", "platform", "wait", "url", "api-key"), Set.of("help", "json"));
          if (cli.flag("help")) {
            out.print(SendCommand.HELP);
            return 0;
          }
          return SendCommand.run(cli, env, out, err);
        }
        case "bench": {
          Cli cli = Cli.parse(rest, Set.of("messages", "workers", "payload-bytes", "mode", "inflight", "rate",
              "duration", "warmup", "via", "redis"), Set.of("help"));
          if (cli.flag("help")) {
            out.print(BenchCommand.HELP);
            return 0;
          }
          if (!cli.positionals().isEmpty()) {
            throw new Cli.UsageException("sg bench takes no arguments: " + cli.positionals());
          }
          try {
            return BenchCommand.run(cli, env, out, err);
          } catch (Cli.UsageException | ConfigException e) {
            throw e;
          } catch (Exception e) {
            err.printf("sg bench: failed: %s%n", e);
            return 1;
          }
        }
        case "standalone":
        case "gateway":
        case "worker":
        case "tools": {
          Role role = Role.parse(cmd);
          Cli cli = Cli.parse(rest, Set.of(), Set.of("help"));
          if (cli.flag("help")) {
            out.printf(ROLE_HELP, cmd, role == Role.STANDALONE ? "gateway, worker and tools in one process" : "a " + cmd + " node",
                role == Role.STANDALONE ? "REDIS_URL, else an embedded Redis 7.0 (SG_EMBEDDED_REDIS_PORT, default 6399)" : "REDIS_URL (required)");
            return 0;
          }
          if (!cli.positionals().isEmpty()) {
            throw new Cli.UsageException("sg " + cmd + " takes no arguments: " + cli.positionals());
          }
          return runRole(role, env, out, err);
        }
        default:
          err.printf("sg: unknown command '%s'%n%n", cmd);
          err.print(HELP);
          return 2;
      }
    } catch (Cli.UsageException e) {
      err.printf("sg %s: %s (see 'sg %s --help')%n", cmd, e.getMessage(), cmd);
      return 2;
    } catch (ConfigException e) {
      err.printf("sg %s: configuration error: %s%n", cmd, e.getMessage());
      return 2;
    }
  }

  private static int runRole(Role role, Map<String, String> env, PrintStream out, PrintStream err) {
    SgConfig config = ConfigLoader.load();
    Pipeline pipeline;
    try {
      pipeline = Pipeline.start(role, config, env, out);
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      err.printf("sg %s: could not start: %s%n", role.wire(), e.getMessage() == null ? e.toString() : e.getMessage());
      return 1;
    }
    if (role == Role.STANDALONE || role == Role.GATEWAY) {
      out.println("Ready. Try: bin/sg send hello   (Ctrl-C stops)");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean fatal = new java.util.concurrent.atomic.AtomicBoolean();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("stopping: draining in-flight work…");
      pipeline.close();
      out.println("stopped");
      stopped.countDown();
    }, "sg-shutdown"));
    pipeline.whenFatal().subscribe(v -> {}, e -> {}, () -> {
      err.printf("sg %s: another process took this node's consumer name (this one stalled longer than the heartbeat TTL); "
          + "exiting: give every process its own SG_NODE_ID%n", role.wire());
      fatal.set(true);
      stopped.countDown();
    });
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // the JVM is exiting through the shutdown hook, or must exit because a namesake took over
    return fatal.get() ? 3 : Integer.MIN_VALUE;
  }
}
