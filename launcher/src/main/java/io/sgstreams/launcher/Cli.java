package io.sgstreams.launcher;

import java.util.List;
import java.util.Map;

/**
 * Options as {@link BenchCommand} reads them: {@code --name value} pairs picocli parsed
 * ({@link BenchCli}), without the dashes; values are checked where they are used.
 */
record Cli(List<String> positionals, Map<String, String> options) {
  /** A usage mistake: printed with a pointer to the command's help, exit status 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }

  /**
   * A command failed in a way it has its own exit status for (e.g. {@code sg dlq}: 3 no such dead letter,
   * 5 Redis unreachable, 6 PostgreSQL unreachable): printed as {@code sg CMD: message}, exit {@link #status()}.
   */
  static final class FailedException extends RuntimeException {
    private final int status;

    FailedException(int status, String message) {
      super(message);
      this.status = status;
    }

    int status() {
      return status;
    }
  }

  Cli {
    positionals = List.copyOf(positionals);
    options = Map.copyOf(options);
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
