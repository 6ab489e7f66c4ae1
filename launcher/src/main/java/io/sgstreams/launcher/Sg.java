package io.sgstreams.launcher;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.JournalConfig;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.LoadedConfig;
import io.sgstreams.core.topology.Role;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * {@code sg}: one executable for every role, like Loki's {@code -target}. {@code standalone} runs
 * gateway, worker and tools in one process (with an embedded Redis when {@code REDIS_URL} is
 * unset); {@code gateway}, {@code worker} and {@code tools} run one role against {@code REDIS_URL};
 * {@code send} talks to a running gateway; {@code config} prints a role's effective configuration;
 * {@code keys} makes, lists and revokes the API keys stored in Redis; {@code dlq} lists, shows, replays and
 * purges dead letters; {@code history} prints a conversation from the journal; {@code deploy keda} prints the KEDA
 * ScaledObject that scales the workers for the loaded configuration.
 *
 * <p>This is the one place the process environment is read: {@link #main} hands it to the
 * commands, which hand it to {@link ConfigLoader}. Exit status: 0 done, 1 a role could not start
 * (or bench failed), 2 a usage or configuration error, 3 another process took a node's consumer
 * name; {@code sg send} has its own (see its help). A role stopped by Ctrl-C / SIGTERM exits
 * through the shutdown hook.
 */
public final class Sg {
  private static final Logger log = LoggerFactory.getLogger(Sg.class);

  /** Returned by a role that exits through the shutdown hook: {@link #main} must not call System.exit. */
  static final int EXITING = Integer.MIN_VALUE;

  /** What every command gets: the environment and where to print. */
  record Context(Map<String, String> env, PrintStream out, PrintStream err) {}

  private Sg() {}

  /** Netty's system property: one buffer in this many is watched for leaks (Netty's default 128). */
  static final String LEAK_SAMPLING = "io.netty.leakDetection.samplingInterval";
  /** Every node's default for {@link #LEAK_SAMPLING} unless {@code -D} set it. */
  static final String LEAK_SAMPLING_DEFAULT = "4096";

  /** Reactor Netty's number of HTTP event loops (server and client), read once when its loops are first made. */
  static final String HTTP_LOOPS = "reactor.netty.ioWorkerCount";

  public static void main(String[] args) {
    sampleFewerBuffersForLeaks(System.getProperties());
    oneHttpLoopPerCpu(System.getProperties(), Runtime.getRuntime().availableProcessors());
    int status = run(Arrays.asList(args), System.getenv(), System.out, System.err);
    if (status != EXITING) {
      System.exit(status);
    }
  }

  /**
   * Netty's leak detector watches one pooled buffer in 128 and records a stack trace when it is allocated and
   * another when it is released: in the closed-loop bench, about one round trip in thirty paid for two stack
   * walks (10,000 {@code TraceRecord}s in 300,000 round trips, {@code fill_in_stack_trace} 0.7 % of the
   * process's CPU samples; docs/performance.md). One in 4,096 still reports a buffer that leaks on every
   * message within seconds. Must run before Netty's {@code ResourceLeakDetector} is loaded; a value given with
   * {@code -D} (or {@code -Dio.netty.leakDetection.level=paranoid}, which watches every buffer) is kept.
   */
  static void sampleFewerBuffersForLeaks(java.util.Properties props) {
    if (props.getProperty(LEAK_SAMPLING) == null) {
      props.setProperty(LEAK_SAMPLING, LEAK_SAMPLING_DEFAULT);
    }
  }

  /**
   * Reactor Netty makes {@code max(CPUs, 4)} HTTP event loops: four on the one- and two-CPU machines and pods
   * this system is sized for, each then so lightly loaded that nearly every request and every reply handed to it
   * wakes a sleeping thread. One loop per CPU the JVM may use (container-aware): under {@code wrk -c64} on two
   * vCPUs, five alternating pairs gave 2–9 % more requests a second for 6–13 % less JVM CPU per request
   * (docs/performance.md). A value given with {@code -D} is kept.
   */
  static void oneHttpLoopPerCpu(java.util.Properties props, int cpus) {
    if (props.getProperty(HTTP_LOOPS) == null) {
      props.setProperty(HTTP_LOOPS, Integer.toString(Math.max(1, cpus)));
    }
  }

  /** Runs a command; for the long-running roles, blocks until the process is told to stop. */
  public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
    String logFormat = env.get("SG_LOG_FORMAT");
    if (logFormat != null && !logFormat.isEmpty() && !logFormat.equals("text") && !logFormat.equals("json")) {
      // logback.xml picks the appender by this name: another value would silently log nothing
      err.printf("sg: configuration error: SG_LOG_FORMAT=%s: must be text or json%n", logFormat);
      return 2;
    }
    CommandLine cl = commandLine(new Context(env, out, err));
    if (args.isEmpty()) {
      cl.usage(cl.getErr());
      cl.getErr().flush();
      return 2;
    }
    int status = cl.execute(args.toArray(String[]::new));
    cl.getOut().flush();
    cl.getErr().flush();
    return status;
  }

  /** The {@code sg} command line with every subcommand, printing to {@code ctx}'s streams. */
  static CommandLine commandLine(Context ctx) {
    CommandLine cl = new CommandLine(new Root(ctx));
    cl.addSubcommand("standalone", role(Role.STANDALONE, ctx));
    cl.addSubcommand("gateway", role(Role.GATEWAY, ctx));
    cl.addSubcommand("worker", role(Role.WORKER, ctx));
    cl.addSubcommand("tools", role(Role.TOOLS, ctx));
    cl.addSubcommand("send", new SendCommand(ctx));
    cl.addSubcommand("bench", new BenchCli(ctx));
    cl.addSubcommand("config", new ConfigCommand(ctx));
    cl.addSubcommand("keys", KeysCommand.commandLine(ctx));
    cl.addSubcommand("dlq", DlqCommand.commandLine(ctx));
    cl.addSubcommand("history", new HistoryCommand(ctx));
    cl.addSubcommand("streams", new StreamsCommand(ctx));
    cl.addSubcommand("deploy", DeployCommand.commandLine(ctx));
    cl.addSubcommand("completion", new Completion(ctx));
    cl.setOut(new PrintWriter(ctx.out(), true, StandardCharsets.UTF_8));
    cl.setErr(new PrintWriter(ctx.err(), true, StandardCharsets.UTF_8));
    cl.setExpandAtFiles(false); // 'sg send @alice hi' is a message, not an argument file
    cl.setParameterExceptionHandler(Sg::usageError);
    cl.setExecutionExceptionHandler(Sg::failure);
    return cl;
  }

  private static CommandLine role(Role role, Context ctx) {
    CommandLine c = new CommandLine(new RoleCommand(role, ctx));
    String runs = "Runs until Ctrl-C / SIGTERM, then stops reading, finishes in-flight work and acknowledges it.";
    c.getCommandSpec().usageMessage().description(switch (role) {
      case STANDALONE -> new String[] {
          "Gateway, worker and tools in one process; an embedded Redis when REDIS_URL is unset, and an embedded "
              + "PostgreSQL for the journal when POSTGRES_URL is unset (--no-journal: none).", runs,
          "Embedded Redis: redis.embedded_port (SG_EMBEDDED_REDIS_PORT, default 6399) and redis.embedded_dir. One admin "
              + "server (/health, /ready with every role's checks, /metrics) at worker.admin_host:worker.admin_port "
              + "(SG_WORKER_ADMIN_HOST, SG_WORKER_ADMIN_PORT; default 127.0.0.1:9090)."};
      case GATEWAY -> new String[] {"The HTTP/SSE/WebSocket gateway (needs REDIS_URL); with POSTGRES_URL it runs the journal.",
          runs};
      case WORKER -> new String[] {"A worker consuming the inbound stream (needs REDIS_URL).", runs};
      case TOOLS -> new String[] {"A tools node executing tool calls (needs REDIS_URL).", runs};
    });
    return c;
  }

  /** A usage mistake: what is wrong, a suggestion for a typo, where help is; exit 2. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter err = cl.getErr();
    String name = cl.getCommandSpec().qualifiedName();
    if (e instanceof UnmatchedArgumentException u && cl.getParent() == null && !u.getUnmatched().isEmpty()
        && !u.getUnmatched().get(0).startsWith("-")) {
      err.printf("%s: unknown command '%s'%n", name, u.getUnmatched().get(0));
    } else {
      err.printf("%s: %s%n", name, e.getMessage());
    }
    UnmatchedArgumentException.printSuggestions(e, err);
    err.printf("See '%s --help'.%n", name);
    err.flush();
    return 2;
  }

  /** An exception out of a command: usage and configuration errors are 2, anything else 1. */
  private static int failure(Exception e, CommandLine cl, ParseResult parsed) {
    PrintWriter err = cl.getErr();
    String name = cl.getCommandSpec().qualifiedName();
    if (e instanceof Cli.UsageException) {
      err.printf("%s: %s (see '%s --help')%n", name, e.getMessage(), name);
      err.flush();
      return 2;
    }
    if (e instanceof Cli.FailedException f) {
      err.printf("%s: %s%n", name, f.getMessage());
      err.flush();
      return f.status();
    }
    if (e instanceof ConfigException) {
      err.printf("%s: configuration error: %s%n", name, e.getMessage());
      err.flush();
      return 2;
    }
    err.printf("%s: failed: %s%n", name, e.getMessage() == null ? e.toString() : e.getMessage());
    err.flush();
    return 1;
  }

  @Command(name = "sg", usageHelpAutoWidth = true,
      description = "sg-streams: a reactive messaging pipeline on Redis Streams; one executable for every role.",
      footer = {"", "'sg COMMAND --help' describes each.",
          "Configuration: streams.yaml ($SG_CONFIG, else ./streams.yaml), then environment variables: one tree for "
              + "every role. 'sg config ROLE' prints it; docs/configuration.md lists every setting.",
          "Ctrl-C or SIGTERM stops gracefully: in-flight work finishes, the rest stays pending for other nodes.",
          "Exit status: 0 done, 1 could not start, 2 usage or configuration error, 3 another process took this "
              + "node's consumer name."})
  static final class Root implements Callable<Integer> {
    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    private final Context ctx;

    Root(Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      // no command: the usage, as a usage error
      spec.commandLine().usage(ctx.err());
      return 2;
    }
  }

  @Command(usageHelpAutoWidth = true, sortOptions = false,
      footer = {"", "Settings: streams.yaml and environment variables; 'sg config ROLE' prints the effective ones with "
          + "their sources, docs/configuration.md lists them all."})
  static final class RoleCommand implements Callable<Integer> {
    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @CommandLine.Option(names = "--no-journal",
        description = "Run without the PostgreSQL journal (as SG_JOURNAL=off): no history API, no embedded PostgreSQL.")
    boolean noJournal;

    private final Role role;
    private final Context ctx;

    RoleCommand(Role role, Context ctx) {
      this.role = role;
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      return runRole(role, ctx, noJournal);
    }
  }

  @Command(name = "completion", usageHelpAutoWidth = true,
      description = {"Prints a bash completion script for sg.",
          "Use: source <(bin/sg completion), or save it as /etc/bash_completion.d/sg."})
  static final class Completion implements Callable<Integer> {
    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Spec
    CommandSpec spec;

    private final Context ctx;

    Completion(Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      ctx.out().print(AutoComplete.bash("sg", spec.root().commandLine()));
      ctx.out().flush();
      return 0;
    }
  }

  /** Loads the tree, starts the role and waits until the process is told to stop. */
  static int runRole(Role role, Context ctx, boolean noJournal) {
    LoadedConfig loaded = ConfigLoader.read(ctx.env());
    loaded.warningsFor(role).forEach(w -> log.warn("configuration: {}", w.message()));
    SgConfig config = noJournal
        ? loaded.config().withJournal(loaded.config().journal().withMode(JournalConfig.Mode.OFF))
        : loaded.config();
    Pipeline pipeline;
    try {
      pipeline = Pipeline.start(role, config, ctx.out());
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      ctx.err().printf("sg %s: could not start: %s%n", role.wire(), e.getMessage() == null ? e.toString() : e.getMessage());
      return 1;
    }
    if (role == Role.STANDALONE || role == Role.GATEWAY) {
      ctx.out().println("Ready. Try: bin/sg send hello   (Ctrl-C stops)");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean fatal = new AtomicBoolean();
    AtomicBoolean closing = new AtomicBoolean();
    Runnable drain = () -> {
      if (closing.compareAndSet(false, true)) {
        ctx.out().println("stopping: draining in-flight work…");
        pipeline.close();
        ctx.out().println("stopped");
      }
      stopped.countDown();
    };
    Runtime.getRuntime().addShutdownHook(new Thread(drain, "sg-shutdown"));
    // SIGTERM / Ctrl-C / SIGHUP drain first and exit after: as JVM shutdown hooks alone, the drain would run
    // alongside the embedded Redis's own hook, which stops the server the drain still needs. A second
    // signal during the drain exits at once (what is unfinished stays pending for the next start).
    for (String name : List.of("TERM", "INT", "HUP")) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
          if (closing.get()) {
            ctx.err().println("sg: second signal: exiting without waiting for the drain");
            new Thread(() -> System.exit(130), "sg-exit").start();
            return;
          }
          new Thread(() -> {
            drain.run();
            System.exit(0);
          }, "sg-stop").start();
        });
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        // this platform has no such signal (or the JVM runs with -Xrs): the shutdown hook still drains
      }
    }
    pipeline.whenFatal().subscribe(v -> {}, e -> {}, () -> {
      ctx.err().printf("sg %s: another process took this node's consumer name (this one stalled longer than the heartbeat TTL); "
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
    return fatal.get() ? 3 : EXITING;
  }
}
