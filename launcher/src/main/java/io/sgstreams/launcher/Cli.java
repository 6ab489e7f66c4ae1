package io.sgstreams.launcher;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsed command-line arguments: positionals and {@code --name value} / {@code --flag} options. */
record Cli(List<String> positionals, Map<String, String> options) {
  /** A usage mistake: printed with the command's help, exit status 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  static Cli parse(List<String> args, Set<String> valued, Set<String> flags) {
    List<String> pos = new ArrayList<>();
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (a.equals("--")) {
        pos.addAll(args.subList(i + 1, args.size()));
        break;
      }
      if (a.startsWith("--")) {
        String name = a.substring(2);
        String value = null;
        int eq = name.indexOf('=');
        if (eq >= 0) {
          value = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (flags.contains(name)) {
          opts.put(name, "true");
        } else if (valued.contains(name)) {
          if (value == null) {
            if (i + 1 >= args.size()) {
              throw new UsageException("--" + name + " needs a value");
            }
            value = args.get(++i);
          }
          opts.put(name, value);
        } else {
          throw new UsageException("unknown option --" + name);
        }
      } else if (a.equals("-h")) {
        opts.put("help", "true");
      } else {
        pos.add(a);
      }
    }
    return new Cli(List.copyOf(pos), Map.copyOf(opts));
  }

  boolean flag(String name) {
    return options.containsKey(name);
  }

  String option(String name, String dflt) {
    return options.getOrDefault(name, dflt);
  }

  double number(String name, double dflt) {
    String v = options.get(name);
    if (v == null) {
      return dflt;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new UsageException("--" + name + " must be a number, got '" + v + "'");
    }
  }
}
