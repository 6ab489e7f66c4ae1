package io.sgstreams.launcher;

import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.Topology;
import io.sgstreams.core.json.Json;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sg deploy keda}: the KEDA {@code ScaledObject} (and its {@code TriggerAuthentication}) that scales the worker
 * Deployment on the worker group's lag, for the configuration this process loads: the stream and group are the
 * tree's ({@code streams.inbound}, {@code groups.workers}), the Redis address is {@code REDIS_URL}'s host and port.
 * The password never appears in the output: the trigger reads it from a Secret through the TriggerAuthentication.
 *
 * <p>With partitions ({@code SG_PARTITIONS} = P > 1) the inbound stream is P keys: the ScaledObject has one trigger
 * per partition ({@code name: p0}…, {@code metadata.stream} = the partition's key; {@code redis-cluster-streams} when
 * {@code REDIS_URL} is a cluster URL: {@code redis-cluster://}, {@code rediss-cluster://} or several hosts), and
 * {@code advanced.scalingModifiers} sums them ({@code p0 + p1 + …}) against the lag target. With leased partitions
 * (the default for P > 1) a worker reads whole partitions, so more than P workers would idle: maxReplicaCount is
 * clamped to P. {@code --prometheus URL} scales on {@code sg_stream_lag} from Prometheus instead (one trigger).
 */
@Command(name = "deploy", usageHelpAutoWidth = true,
    description = {"Prints deployment manifests for the current configuration.",
        "'sg deploy keda' prints the KEDA ScaledObject that scales the workers on their group's lag."},
    footer = {"", "Exit status: 0 done, 2 usage or configuration error."})
final class DeployCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Spec
  CommandSpec spec;

  private final Sg.Context ctx;

  DeployCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  /** {@code sg deploy} with its subcommands, printing to {@code ctx}'s streams. */
  static CommandLine commandLine(Sg.Context ctx) {
    CommandLine deploy = new CommandLine(new DeployCommand(ctx));
    deploy.addSubcommand("keda", new Keda(ctx));
    return deploy;
  }

  @Override
  public Integer call() {
    // no subcommand: the usage, as a usage error
    spec.commandLine().usage(ctx.err());
    return 2;
  }

  /** Kubernetes names: DNS-1123 labels. */
  private static final Pattern K8S_NAME = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  @Command(name = "keda", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Prints a KEDA ScaledObject scaling the worker Deployment on the worker group's lag (redis-streams "
          + "scaler, lagCount), and the TriggerAuthentication it uses for the Redis password.",
          "Stream and group come from the loaded configuration (streams.inbound / SG_INBOUND_STREAM, groups.workers / "
              + "SG_WORKER_GROUP); the address from REDIS_URL (host:port; rediss:// turns TLS on). The password is read "
              + "by KEDA from the Secret named by --secret, never printed.",
          "Lag, not pending: pending entries are already being handled, so scaling on them adds pods for work in "
              + "progress; lag is what no worker has picked up yet.",
          "With partitions (SG_PARTITIONS > 1): one trigger per inbound partition (redis-cluster-streams for a "
              + "cluster REDIS_URL), summed by advanced.scalingModifiers; maxReplicaCount is clamped to the partition "
              + "count when workers lease partitions."},
      footer = {"", "Apply with: sg deploy keda --namespace N | kubectl apply -f -"})
  static final class Keda implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--namespace", paramLabel = "N",
        description = "metadata.namespace of both objects (default: none, i.e. kubectl's current namespace)")
    String namespace;

    @Option(names = "--deployment", paramLabel = "NAME", defaultValue = "sg-worker",
        description = "the worker Deployment to scale (default ${DEFAULT-VALUE}); the ScaledObject has its name")
    String deployment;

    @Option(names = "--min", paramLabel = "N", defaultValue = "1",
        description = "minReplicaCount, at least 1 (default ${DEFAULT-VALUE}): Redis reports no lag in some states, and "
            + "KEDA then reads 0, so at least one worker always reads and reclaims")
    int min;

    @Option(names = "--max", paramLabel = "N", defaultValue = "10", description = "maxReplicaCount (default ${DEFAULT-VALUE})")
    int max;

    @Option(names = "--lag", paramLabel = "N",
        description = "lagCount: unread entries per worker that the HPA aims at (default: consumer.concurrency, "
            + "SG_WORKER_CONCURRENCY, i.e. one worker's worth of waiting work per worker)")
    Integer lag;

    @Option(names = "--prometheus", paramLabel = "URL",
        description = "scale on Prometheus's sg_stream_lag (one prometheus trigger summing every inbound partition's "
            + "lag of the worker group) at this server address instead of reading Redis (e.g. http://prometheus:9090)")
    String prometheus;

    @Option(names = "--secret", paramLabel = "NAME", defaultValue = "sg-secrets",
        description = "the Secret holding the Redis password under the key redis-password (and an ACL user under "
            + "redis-username when REDIS_URL has one); default ${DEFAULT-VALUE}")
    String secret;

    private final Sg.Context ctx;

    Keda(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (namespace != null && !K8S_NAME.matcher(namespace).matches()) {
        throw new Cli.UsageException("--namespace must be a Kubernetes name (lower-case letters, digits, '-'); got '" + namespace + "'");
      }
      for (String[] n : new String[][] {{"--deployment", deployment}, {"--secret", secret}}) {
        if (!K8S_NAME.matcher(n[1]).matches()) {
          throw new Cli.UsageException(n[0] + " must be a Kubernetes name (lower-case letters, digits, '-'); got '" + n[1] + "'");
        }
      }
      if (min < 1) {
        throw new Cli.UsageException("--min must be at least 1: KEDA reads a lag Redis cannot tell as 0, and with no "
            + "worker left nothing would read the stream or reclaim what a dead worker held; got " + min);
      }
      if (max < min) {
        throw new Cli.UsageException("--max must be at least --min (" + min + "); got " + max);
      }
      SgConfig config = ConfigLoader.read(ctx.env()).config();
      int target = lag == null ? config.consumer().concurrency() : lag;
      if (target < 1) {
        throw new Cli.UsageException("--lag must be at least 1; got " + target);
      }
      if (prometheus != null && !(prometheus.startsWith("http://") || prometheus.startsWith("https://"))) {
        throw new Cli.UsageException("--prometheus must be an http:// or https:// URL; got '" + prometheus + "'");
      }
      RedisTarget redis = prometheus != null ? null : RedisTarget.parse(config.redisUrl().orElseThrow(() -> new Cli.UsageException(
          "REDIS_URL is not set: the ScaledObject needs the address KEDA reads the lag from (or use --prometheus URL)")));
      Topology t = config.topology();
      String clamped = null;
      if (t.partitioned() && config.partitions().leased() && max > t.partitions()) {
        clamped = "# maxReplicaCount " + max + " clamped to " + t.partitions() + " (SG_PARTITIONS): each worker leases whole "
            + "partitions, so a worker beyond the partition count would only wait for a lease.";
        max = t.partitions();
        if (min > max) {
          min = max;
        }
      }
      print(ctx.out(), t, redis, target, clamped);
      ctx.out().flush();
      return 0;
    }

    private void print(PrintStream out, Topology t, RedisTarget redis, int target, String clamped) {
      String auth = deployment + "-redis";
      out.println("# KEDA autoscaling of the sg-streams workers: written by 'sg deploy keda' for stream "
          + t.inboundStream() + ", group " + t.workerGroup() + ".");
      if (t.partitioned()) {
        out.println("# " + t.partitions() + " partitions (SG_PARTITIONS): " + (prometheus != null
            ? "one Prometheus trigger sums every partition's lag (sg_stream_lag)."
            : "one trigger per partition's inbound stream (p0…p" + (t.partitions() - 1)
                + "), summed by advanced.scalingModifiers against the lag target."));
      }
      if (clamped != null) {
        out.println(clamped);
      }
      if (prometheus != null) {
        redis = new RedisTarget("", java.util.List.of(), 0, false, false, false, false); // no Redis credentials needed
      }
      out.println("# Scales on the group's lag (entries no worker has read yet; XINFO GROUPS), not on pending entries");
      out.println("# (those are being handled already). Redis reports no lag in some states (e.g. after entries it had");
      out.println("# not delivered were deleted): KEDA then reads 0, so minReplicaCount stays at least 1, and the");
      out.println("# fallback holds minReplicaCount replicas while the scaler cannot read Redis at all.");
      if (redis.hasCredentials()) {
        out.println("---");
        out.println("apiVersion: keda.sh/v1alpha1");
        out.println("kind: TriggerAuthentication");
        metadata(out, auth);
        out.println("spec:");
        out.println("  secretTargetRef:");
        if (redis.username()) {
          out.println("    - parameter: username");
          out.println("      name: " + q(secret));
          out.println("      key: redis-username");
        }
        if (redis.password()) {
          out.println("    - parameter: password");
          out.println("      name: " + q(secret));
          out.println("      key: redis-password");
        }
      }
      out.println("---");
      out.println("apiVersion: keda.sh/v1alpha1");
      out.println("kind: ScaledObject");
      metadata(out, deployment);
      out.println("spec:");
      out.println("  scaleTargetRef:");
      out.println("    apiVersion: apps/v1");
      out.println("    kind: Deployment");
      out.println("    name: " + q(deployment));
      out.println("  pollingInterval: 15");
      out.println("  cooldownPeriod: 300");
      out.println("  minReplicaCount: " + min);
      out.println("  maxReplicaCount: " + max);
      out.println("  fallback:");
      out.println("    failureThreshold: 3");
      out.println("    replicas: " + min);
      out.println("  advanced:");
      out.println("    horizontalPodAutoscalerConfig:");
      out.println("      behavior:");
      out.println("        scaleDown:");
      out.println("          stabilizationWindowSeconds: 300");
      out.println("          policies:");
      out.println("            - type: Pods");
      out.println("              value: 1");
      out.println("              periodSeconds: 60");
      boolean perPartition = t.partitioned() && prometheus == null;
      if (perPartition) {
        StringBuilder formula = new StringBuilder();
        for (int i = 0; i < t.partitions(); i++) {
          formula.append(i == 0 ? "" : " + ").append("p").append(i);
        }
        out.println("    scalingModifiers:");
        out.println("      formula: " + q(formula.toString()));
        out.println("      target: " + q(Integer.toString(target)));
        out.println("      activationTarget: \"1\"");
        out.println("      metricType: AverageValue");
      }
      out.println("  triggers:");
      if (prometheus != null) {
        out.println("    - type: prometheus");
        out.println("      metadata:");
        out.println("        serverAddress: " + q(prometheus));
        out.println("        query: " + q(lagQuery(t)));
        out.println("        threshold: " + q(Integer.toString(target)));
        out.println("        activationThreshold: \"1\"");
        return;
      }
      for (int i = 0; i < t.partitions(); i++) {
        out.println("    - type: " + (redis.cluster() ? "redis-cluster-streams" : "redis-streams"));
        if (perPartition) {
          out.println("      name: p" + i);
        }
        out.println("      metadata:");
        if (redis.cluster()) {
          out.println("        addresses: " + q(String.join(", ", redis.addresses())));
        } else {
          out.println("        address: " + q(redis.address()));
        }
        out.println("        stream: " + q(t.inboundStream(i)));
        out.println("        consumerGroup: " + q(t.workerGroup()));
        out.println("        lagCount: " + q(Integer.toString(target)));
        out.println("        activationLagCount: \"1\"");
        if (redis.database() != 0) {
          out.println("        databaseIndex: " + q(Integer.toString(redis.database())));
        }
        if (redis.tls()) {
          out.println("        enableTLS: \"true\"");
        }
        if (redis.hasCredentials()) {
          out.println("      authenticationRef:");
          out.println("        name: " + q(auth));
        }
      }
    }

    /**
   * The PromQL of the worker group's lag over every inbound partition: each node's StreamMonitor reports the same
   * gauge, so {@code max} per stream first, then the sum over partitions. {@code sg_stream_lag} is NaN while Redis
   * cannot tell, which the sum passes on (KEDA then keeps the replicas it has).
   */
  static String lagQuery(Topology t) {
    String streams = t.partitioned()
        ? "stream=~`\\Q" + t.inboundStream() + ":\\E\\{[^}]*\\}`"
        : "stream=" + q(t.inboundStream());
    return "sum(max by (stream) (sg_stream_lag{" + streams + ", group=" + q(t.workerGroup()) + "}))";
    }

    private void metadata(PrintStream out, String name) {
      out.println("metadata:");
      out.println("  name: " + q(name));
      if (namespace != null) {
        out.println("  namespace: " + q(namespace));
      }
      out.println("  labels:");
      out.println("    app.kubernetes.io/part-of: sg-streams");
      out.println("    app.kubernetes.io/component: worker");
    }
  }

  /** A JSON string: a double-quoted YAML scalar, whatever the value holds (':' in stream names, '#', quotes). */
  static String q(String s) {
    return Json.write(s);
  }

  /**
   * What KEDA needs of {@code REDIS_URL}: {@code host:port}, the database, TLS, and whether a user and a password
   * are set (their values stay in the Secret).
   */
  record RedisTarget(String address, java.util.List<String> addresses, int database, boolean tls, boolean username,
      boolean password, boolean cluster) {
    RedisTarget(String address, int database, boolean tls, boolean username, boolean password) {
      this(address, java.util.List.of(address), database, tls, username, password, false);
    }

    boolean hasCredentials() {
      return username || password;
    }

    /**
     * A cluster URL: {@code redis-cluster://} / {@code rediss-cluster://}, or {@code redis[s]://} with several
     * comma-separated hosts ({@code redis://:pw@h1:6379,h2:6379}): KEDA's {@code redis-cluster-streams} reads them.
     */
    static boolean isCluster(String url) {
      int sep = url.indexOf("://");
      if (sep < 0) {
        return false;
      }
      String scheme = url.substring(0, sep).toLowerCase(Locale.ROOT);
      if (scheme.equals("redis-cluster") || scheme.equals("rediss-cluster")) {
        return true;
      }
      return (scheme.equals("redis") || scheme.equals("rediss")) && authority(url).hosts().contains(",");
    }

    private record Authority(String userInfo, String hosts, String path) {}

    private static Authority authority(String url) {
      String rest = url.substring(url.indexOf("://") + 3);
      int end = rest.length();
      for (char c : new char[] {'/', '?', '#'}) {
        int i = rest.indexOf(c);
        if (i >= 0 && i < end) {
          end = i;
        }
      }
      String auth = rest.substring(0, end);
      int at = auth.lastIndexOf('@');
      return new Authority(at < 0 ? null : auth.substring(0, at), auth.substring(at + 1), rest.substring(end));
    }

    static RedisTarget parseCluster(String url) {
      String scheme = url.substring(0, url.indexOf("://")).toLowerCase(Locale.ROOT);
      Authority a = authority(url);
      java.util.List<String> hosts = new java.util.ArrayList<>();
      for (String h : a.hosts().split(",")) {
        String host = h.strip();
        if (host.isEmpty()) {
          continue;
        }
        boolean hasPort = host.startsWith("[") ? host.contains("]:") : host.contains(":");
        hosts.add(hasPort ? host : host + ":6379");
      }
      if (hosts.isEmpty()) {
        throw new Cli.UsageException("REDIS_URL has no host");
      }
      String path = a.path();
      if (path.startsWith("/") && path.length() > 1 && !path.substring(1).equals("0")) {
        throw new Cli.UsageException("REDIS_URL: a Redis Cluster has database 0 only; got '" + path + "'");
      }
      String info = a.userInfo();
      boolean user = false;
      boolean pass = false;
      if (info != null) {
        int colon = info.indexOf(':');
        user = colon > 0;
        pass = colon < 0 ? !info.isEmpty() : colon < info.length() - 1;
      }
      return new RedisTarget(hosts.get(0), java.util.List.copyOf(hosts), 0, scheme.startsWith("rediss"), user, pass, true);
    }

    static RedisTarget parse(String url) {
      if (isCluster(url)) {
        return parseCluster(url);
      }
      URI u;
      try {
        u = new URI(url);
      } catch (URISyntaxException e) {
        throw new Cli.UsageException("REDIS_URL is not a URL: " + e.getReason());
      }
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("redis") && !scheme.equals("rediss")) {
        throw new Cli.UsageException("REDIS_URL must be a redis://, rediss://, redis-cluster:// or rediss-cluster:// URL "
            + "for KEDA's redis-streams scalers (sentinel and socket addresses are not supported here); got a " + scheme
            + ":// URL");
      }
      if (u.getHost() == null) {
        throw new Cli.UsageException("REDIS_URL has no host");
      }
      int port = u.getPort() == -1 ? 6379 : u.getPort();
      String host = u.getHost().contains(":") && !u.getHost().startsWith("[") ? "[" + u.getHost() + "]" : u.getHost();
      int db = 0;
      String path = u.getPath();
      if (path != null && path.length() > 1) {
        try {
          db = Integer.parseInt(path.substring(1));
        } catch (NumberFormatException e) {
          throw new Cli.UsageException("REDIS_URL's path must be a database number; got '" + path + "'");
        }
      }
      String info = u.getRawUserInfo();
      boolean user = false;
      boolean pass = false;
      if (info != null) {
        int colon = info.indexOf(':');
        user = colon < 0 ? false : colon > 0;
        pass = colon < 0 ? !info.isEmpty() : colon < info.length() - 1;
      }
      return new RedisTarget(host + ":" + port, db, scheme.equals("rediss"), user, pass);
    }
  }
}
