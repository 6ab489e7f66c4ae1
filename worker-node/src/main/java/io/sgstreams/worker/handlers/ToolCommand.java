package io.sgstreams.worker.handlers;

import io.sgstreams.worker.internal.Json;
import java.util.Map;
import java.util.Optional;

/**
 * The echo handler's command form: {@code /tool NAME JSON-ARGS}, e.g.
 * {@code /tool calc {"expr":"2*21"}}. Arguments may be omitted ({@code /tool clock}).
 *
 * @param error why the arguments could not be used, or null
 */
public record ToolCommand(String tool, Map<String, Object> args, String error) {
  static final String PREFIX = "/tool";
  /** Longest command accepted: the arguments go into an envelope, so they are bounded anyway. */
  static final int MAX_LENGTH = 64 * 1024;

  /** Empty when {@code content} is not a tool command at all (then it is echoed). */
  public static Optional<ToolCommand> parse(String content) {
    if (content == null) {
      return Optional.empty();
    }
    String s = content.strip();
    if (!s.startsWith(PREFIX) || (s.length() > PREFIX.length() && !Character.isWhitespace(s.charAt(PREFIX.length())))) {
      return Optional.empty();
    }
    String rest = s.substring(PREFIX.length()).strip();
    if (rest.isEmpty()) {
      return Optional.of(new ToolCommand("", Map.of(), "usage: /tool NAME JSON-ARGS, e.g. /tool calc {\"expr\":\"2*21\"}"));
    }
    int space = indexOfWhitespace(rest);
    String name = space < 0 ? rest : rest.substring(0, space);
    String argText = space < 0 ? "" : rest.substring(space).strip();
    if (s.length() > MAX_LENGTH) {
      return Optional.of(new ToolCommand(name, Map.of(), "command longer than " + MAX_LENGTH + " characters"));
    }
    try {
      return Optional.of(new ToolCommand(name, Json.parseObject(argText), null));
    } catch (IllegalArgumentException e) {
      return Optional.of(new ToolCommand(name, Map.of(), e.getMessage()));
    }
  }

  private static int indexOfWhitespace(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isWhitespace(s.charAt(i))) {
        return i;
      }
    }
    return -1;
  }
}
