package io.sgstreams.tools;

import io.sgstreams.core.config.ToolsConfig;
import io.sgstreams.tools.builtin.CalcTool;
import io.sgstreams.tools.builtin.ClockTool;
import io.sgstreams.tools.builtin.EchoTool;
import io.sgstreams.tools.builtin.ListToolsTool;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;

/**
 * The tools a node serves, by name: the built-ins plus user tools found by {@link ServiceLoader}.
 * Built once at startup; immutable. Two tools with one name are a startup error naming both
 * classes (never "last one wins").
 */
public final class ToolRegistry {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final Map<String, Tool> tools;

  private ToolRegistry(Map<String, Tool> tools) {
    this.tools = Collections.unmodifiableMap(tools);
  }

  /** Exactly {@code tools}. @throws ToolRegistryException on a duplicate or invalid name */
  public static ToolRegistry of(Collection<? extends Tool> tools) {
    Map<String, Tool> byName = new TreeMap<>();
    for (Tool t : tools) {
      String name = t.name();
      if (name == null || !NAME.matcher(name).matches()) {
        throw new ToolRegistryException("tool " + t.getClass().getName() + " has an invalid name '" + name
            + "' (1-64 characters of A-Z a-z 0-9 _ -, as LLM function names require)");
      }
      Tool previous = byName.putIfAbsent(name, t);
      if (previous != null) {
        throw new ToolRegistryException("two tools are named '" + name + "': " + previous.getClass().getName()
            + " and " + t.getClass().getName());
      }
    }
    return new ToolRegistry(byName);
  }

  /** The built-ins {@code echo}, {@code clock} and {@code calc}, configured by {@code settings}. */
  public static List<Tool> builtins(ToolsConfig settings) {
    return List.of(new EchoTool(), new ClockTool(), new CalcTool(settings.calcMaxExprChars()));
  }

  /**
   * Built-ins, the {@code list_tools} catalog, and every {@code io.sgstreams.tools.Tool} provider
   * visible to {@code loader}.
   */
  public static ToolRegistry load(ToolsConfig settings, ClassLoader loader) {
    List<Tool> all = new ArrayList<>(builtins(settings));
    AtomicReference<ToolRegistry> self = new AtomicReference<>();
    all.add(new ListToolsTool(() -> self.get().tools()));
    try {
      for (Tool t : ServiceLoader.load(Tool.class, loader)) {
        all.add(t);
      }
    } catch (ServiceConfigurationError e) {
      throw new ToolRegistryException("cannot load a user tool: " + e.getMessage(), e);
    }
    ToolRegistry registry = of(all);
    self.set(registry);
    return registry;
  }

  public Optional<Tool> find(String name) {
    return Optional.ofNullable(name == null ? null : tools.get(name));
  }

  /** Names in alphabetical order. */
  public List<String> names() {
    return List.copyOf(tools.keySet());
  }

  public Collection<Tool> tools() {
    return tools.values();
  }

  @Override
  public String toString() {
    return String.join(", ", tools.keySet());
  }
}
