package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.store.ApiKeys;
import io.sgstreams.core.store.ApiKeys.NewKey;
import io.sgstreams.core.store.ApiKeys.StoredKey;
import io.sgstreams.core.topology.Role;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sg keys create | list | revoke}: API keys made at run time, stored hashed in Redis (core's
 * {@link ApiKeys}, under {@code streams.keys_prefix}) and accepted by every gateway whose auth is on, besides
 * {@code SG_API_KEYS}. Needs {@code REDIS_URL} (or {@code redis.url}).
 */
@Command(name = "keys", usageHelpAutoWidth = true,
    description = {"Makes, lists and revokes API keys stored in Redis (hashed).",
        "Every gateway with authentication on (SG_AUTH=keys, or SG_API_KEYS set) accepts these keys besides "
            + "SG_API_KEYS; the caller's tenant is the key's. A revoked key is refused by every gateway within 2 s "
            + "(held SSE / WebSocket connections end within 3 s). Needs REDIS_URL; keys live under "
            + "streams.keys_prefix (SG_KEYS_PREFIX, default sg:keys)."},
    footer = {"", "Exit status: 0 done, 1 failed (Redis unreachable, no such key), 2 usage or configuration error."})
final class KeysCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Spec
  CommandSpec spec;

  private final Sg.Context ctx;

  KeysCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  /** {@code sg keys} with its subcommands, printing to {@code ctx}'s streams. */
  static CommandLine commandLine(Sg.Context ctx) {
    CommandLine keys = new CommandLine(new KeysCommand(ctx));
    keys.addSubcommand("create", new Create(ctx));
    keys.addSubcommand("list", new ListKeys(ctx));
    keys.addSubcommand("revoke", new Revoke(ctx));
    return keys;
  }

  @Override
  public Integer call() {
    // no subcommand: the usage, as a usage error
    spec.commandLine().usage(ctx.err());
    return 2;
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** Connects to the configured Redis, runs {@code work} on the key store, closes. */
  static <T> T withKeys(Sg.Context ctx, Function<ApiKeys, T> work) {
    SgConfig config = ConfigLoader.read(ctx.env()).config();
    if (config.redisUrl().isEmpty()) {
      throw new ConfigException(ConfigSchema.Redis.URL.env(), null, "required for 'sg keys': the keys are stored in Redis");
    }
    try (RedisEventBus bus = RedisEventBus.connect(Role.GATEWAY, config, new SimpleMeterRegistry())) {
      return work.apply(bus.apiKeys());
    }
  }

  static String time(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  static ObjectNode json(StoredKey k) {
    ObjectNode n = Json.object();
    n.put("id", k.id());
    n.put("tenant", k.tenant());
    n.put("name", k.name().orElse(null));
    n.put("created", k.created().toString());
    n.put("revoked", k.revoked().map(Instant::toString).orElse(null));
    return n;
  }

  @Command(name = "create", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Makes a key for a tenant and prints it, once.",
          "The key (sgk_…) is shown only now: Redis keeps its SHA-256, never the key. Use it as "
              + "'Authorization: Bearer KEY' (or X-API-Key, or ?api_key=)."})
  static final class Create implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--tenant", paramLabel = "T", required = true,
        description = "the tenant the key belongs to: 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit")
    String tenant;

    @Option(names = "--name", paramLabel = "N", description = "what the key is for (shown by 'sg keys list')")
    String name;

    @Option(names = "--json", description = "one JSON object: id, tenant, name, created, key")
    boolean json;

    private final Sg.Context ctx;

    Create(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (!ApiKeys.TENANT.matcher(tenant).matches()) {
        throw new Cli.UsageException("--tenant must be 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit; got '"
            + tenant + "'");
      }
      if (name != null && (name.strip().length() > ApiKeys.MAX_NAME || name.chars().anyMatch(Character::isISOControl))) {
        throw new Cli.UsageException("--name must be at most " + ApiKeys.MAX_NAME + " characters, without control characters");
      }
      NewKey made = withKeys(ctx, keys -> keys.create(tenant, name).block(TIMEOUT));
      PrintStream out = ctx.out();
      if (json) {
        out.println(Json.write(KeysCommand.json(made.stored()).put("key", made.key())));
      } else {
        out.printf("id      %s%n", made.stored().id());
        out.printf("tenant  %s%n", made.stored().tenant());
        made.stored().name().ifPresent(n -> out.printf("name    %s%n", n));
        out.printf("key     %s%n", made.key());
        ctx.err().println("# the key is shown only now (Redis keeps its SHA-256 only); revoke it with 'sg keys revoke "
            + made.stored().id() + "'");
      }
      out.flush();
      ctx.err().flush();
      return 0;
    }
  }

  @Command(name = "list", usageHelpAutoWidth = true, sortOptions = false,
      description = {"Lists the stored keys, oldest first: id, tenant, name, created, revoked. Never the keys themselves."})
  static final class ListKeys implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--tenant", paramLabel = "T", description = "only this tenant's keys")
    String tenant;

    @Option(names = "--json", description = "one JSON object: keys [{id, tenant, name, created, revoked}] (times ISO-8601, null when unset)")
    boolean json;

    private final Sg.Context ctx;

    ListKeys(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      List<StoredKey> all = withKeys(ctx, keys -> keys.list().collectList().block(TIMEOUT));
      List<StoredKey> shown = tenant == null ? all : all.stream().filter(k -> k.tenant().equals(tenant)).toList();
      PrintStream out = ctx.out();
      if (json) {
        ObjectNode root = Json.object();
        ArrayNode arr = root.putArray("keys");
        shown.forEach(k -> arr.add(KeysCommand.json(k)));
        out.println(Json.write(root));
      } else {
        int id = "ID".length();
        int ten = "TENANT".length();
        int nm = "NAME".length();
        for (StoredKey k : shown) {
          id = Math.max(id, k.id().length());
          ten = Math.max(ten, k.tenant().length());
          nm = Math.min(40, Math.max(nm, k.name().orElse("-").length()));
        }
        String format = "%-" + id + "s  %-" + ten + "s  %-" + nm + "s  %-20s  %s%n";
        out.printf(format, "ID", "TENANT", "NAME", "CREATED", "REVOKED");
        for (StoredKey k : shown) {
          out.printf(format, k.id(), k.tenant(), k.name().orElse("-"), time(k.created()),
              k.revoked().map(KeysCommand::time).orElse("-"));
        }
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "revoke", usageHelpAutoWidth = true,
      description = {"Revokes a key: every gateway refuses it within 2 s (its held SSE / WebSocket connections end "
          + "within 3 s). It stays listed, with the time it was revoked."})
  static final class Revoke implements Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Parameters(paramLabel = "ID", description = "the key's id (kid_…), as 'sg keys create' and 'sg keys list' print it")
    String id;

    private final Sg.Context ctx;

    Revoke(Sg.Context ctx) {
      this.ctx = ctx;
    }

    @Override
    public Integer call() {
      if (!ApiKeys.ID.matcher(id).matches()) {
        throw new Cli.UsageException("'" + id + "' is not a key id: ids look like kid_0123456789ab ('sg keys list' shows them)");
      }
      Instant before = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      StoredKey k = withKeys(ctx, keys -> keys.revoke(id).block(TIMEOUT));
      if (k == null) {
        ctx.err().printf("sg keys revoke: no key has the id %s ('sg keys list' shows them)%n", id);
        ctx.err().flush();
        return 1;
      }
      Instant at = k.revoked().orElseThrow();
      String what = k.id() + " (tenant " + k.tenant() + k.name().map(n -> ", " + n).orElse("") + ")";
      if (at.isBefore(before)) { // this run's revocation time is now or later; an earlier one was kept
        ctx.out().printf("%s was already revoked at %s%n", what, time(at));
      } else {
        ctx.out().printf("revoked %s at %s; every gateway refuses it within 2 s%n", what, time(at));
      }
      ctx.out().flush();
      return 0;
    }
  }
}
