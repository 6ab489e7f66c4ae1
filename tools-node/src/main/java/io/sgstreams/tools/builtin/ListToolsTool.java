package io.sgstreams.tools.builtin;

import io.sgstreams.tools.Tool;
import io.sgstreams.tools.ToolContext;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * {@code list_tools}: the catalog of this node, {@code [{name, description, parameters}]}, so a
 * worker can offer the tools (user tools included) to an LLM without hard-coding their schemas.
 */
public final class ListToolsTool implements Tool {
  public static final String NAME = "list_tools";

  private final Supplier<Collection<Tool>> tools;

  public ListToolsTool(Supplier<Collection<Tool>> tools) {
    this.tools = tools;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Lists the tools this node serves with their descriptions and JSON-schema parameters.";
  }

  @Override
  public Map<String, Object> parametersSchema() {
    return Map.of("type", "object", "properties", Map.of());
  }

  @Override
  public Mono<Object> call(Map<String, Object> args, ToolContext ctx) {
    return Mono.fromSupplier(() -> {
      List<Map<String, Object>> out = tools.get().stream()
          .filter(t -> !t.name().equals(NAME))
          .map(t -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            m.put("description", t.description() == null ? "" : t.description());
            m.put("parameters", t.parametersSchema() == null ? Map.of("type", "object") : t.parametersSchema());
            return m;
          })
          .toList();
      return out;
    });
  }
}
