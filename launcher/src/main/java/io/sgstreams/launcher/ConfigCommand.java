package io.sgstreams.launcher;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sgstreams.core.json.Json;
import io.sgstreams.core.config.ConfigLoader;
import io.sgstreams.core.config.ConfigSource;
import io.sgstreams.core.config.LoadedConfig;
import io.sgstreams.core.config.ValueType;
import io.sgstreams.core.topology.Role;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sg config [ROLE] [--json]}: the effective configuration a role would start with, every
 * setting it reads with its value and where that came from (the default, the streams.yaml file, or
 * a variable), secrets masked. Loads exactly as the role does, so a bad value is the same error.
 */
@Command(name = "config", usageHelpAutoWidth = true,
    description = {"Prints a role's effective configuration, with where each value came from.",
        "Every setting the role reads, its value (secrets masked) and where it came from: the default, the "
            + "streams.yaml file, or an environment variable. Loads exactly as the role does."},
    footer = {"", "Every setting, its bounds and meaning: docs/configuration.md."})
final class ConfigCommand implements Callable<Integer> {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;

  @Parameters(paramLabel = "ROLE", arity = "0..1", defaultValue = "standalone", completionCandidates = Roles.class,
      description = "standalone (default), gateway, worker or tools")
  String role;

  @Option(names = "--json", description = "one JSON object for machines: role, file, settings [{key, variable, value, source, from, secret}], warnings")
  boolean json;

  static final class Roles extends ArrayList<String> {
    Roles() {
      super(List.of("standalone", "gateway", "worker", "tools"));
    }
  }


  private final Sg.Context ctx;

  ConfigCommand(Sg.Context ctx) {
    this.ctx = ctx;
  }

  @Override
  public Integer call() {
    Role r;
    try {
      r = Role.parse(role);
    } catch (IllegalArgumentException e) {
      throw new Cli.UsageException(e.getMessage());
    }
    LoadedConfig loaded = ConfigLoader.read(ctx.env());
    if (json) {
      ctx.out().println(json(r, loaded));
    } else {
      text(r, loaded, ctx.out());
    }
    ctx.out().flush();
    return 0;
  }

  static String json(Role role, LoadedConfig loaded) {
    ObjectNode root = Json.object();
    root.put("role", role.wire());
    root.put("file", loaded.file().map(Object::toString).orElse(null));
    ArrayNode settings = root.putArray("settings");
    for (LoadedConfig.Effective e : loaded.settingsFor(role)) {
      ObjectNode s = settings.addObject();
      s.put("key", e.setting().key());
      s.put("variable", e.setting().env());
      putValue(s, e);
      s.put("source", e.source().kind().name().toLowerCase(java.util.Locale.ROOT));
      s.put("from", switch (e.source().kind()) {
        case DEFAULT -> e.source().where() == null ? "default" : e.source().where();
        case FILE, ENV -> e.source().where();
      });
      s.put("secret", e.setting().secret());
      s.put("description", e.setting().description());
    }
    ArrayNode warnings = root.putArray("warnings");
    loaded.warningsFor(role).forEach(w -> warnings.add(w.message()));
    return Json.write(root);
  }

  /** Numbers as numbers, lists as arrays, secrets and everything else as (masked) strings, unset as null. */
  private static void putValue(ObjectNode s, LoadedConfig.Effective e) {
    String shown = e.shown();
    if (shown == null) {
      s.putNull("value");
      return;
    }
    ValueType.Kind kind = e.setting().secret() ? ValueType.Kind.TEXT : e.setting().type().kind();
    switch (kind) {
      case INTEGER -> {
        try {
          s.put("value", Long.parseLong(shown.trim()));
        } catch (NumberFormatException x) {
          s.put("value", shown);
        }
      }
      case LIST -> {
        ArrayNode a = s.putArray("value");
        for (String item : shown.split(",")) {
          if (!item.isBlank()) {
            a.add(item.trim());
          }
        }
      }
      case TEXT -> s.put("value", shown);
    }
  }

  static void text(Role role, LoadedConfig loaded, PrintStream out) {
    List<LoadedConfig.Effective> rows = loaded.settingsFor(role);
    out.printf("# sg %s: defaults, then %s, then the environment; secrets masked%n", role.wire(),
        loaded.file().map(Object::toString).orElse("no streams.yaml"));
    int key = "SETTING".length();
    int var = "VARIABLE".length();
    int val = "VALUE".length();
    for (LoadedConfig.Effective e : rows) {
      key = Math.max(key, e.setting().key().length());
      var = Math.max(var, e.setting().env().length());
      val = Math.min(48, Math.max(val, value(e).length()));
    }
    String format = "%-" + key + "s  %-" + var + "s  %-" + val + "s  %s%n";
    out.printf(format, "SETTING", "VARIABLE", "VALUE", "FROM");
    for (LoadedConfig.Effective e : rows) {
      out.printf(format, e.setting().key(), e.setting().env(), value(e), from(e.source()));
    }
    for (LoadedConfig.Warning w : loaded.warningsFor(role)) {
      out.printf("# warning: %s%n", w.message());
    }
  }

  private static String value(LoadedConfig.Effective e) {
    String shown = e.shown();
    return shown == null ? "(unset)" : shown.isEmpty() ? "(empty)" : shown;
  }

  private static String from(ConfigSource s) {
    return switch (s.kind()) {
      case DEFAULT -> s.where() == null ? "default" : "default: " + s.where();
      case FILE -> s.where();
      case ENV -> "$" + s.where();
    };
  }
}
