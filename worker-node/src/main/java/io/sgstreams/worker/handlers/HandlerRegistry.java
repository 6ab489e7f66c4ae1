package io.sgstreams.worker.handlers;

import io.sgstreams.core.config.ConfigException;
import io.sgstreams.core.config.ConfigSchema;
import io.sgstreams.worker.HandlerFactory;
import io.sgstreams.worker.openai.OpenAiHandlerFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** Finds the {@link HandlerFactory} named by {@code SG_WORKER_HANDLER}: built-ins first, then ServiceLoader. */
public final class HandlerRegistry {
  private HandlerRegistry() {}

  /** The built-in factories and those on the class path of {@code loader}. */
  public static List<HandlerFactory> available(ClassLoader loader) {
    List<HandlerFactory> all = new ArrayList<>(List.of(new EchoHandlerFactory(), new OpenAiHandlerFactory()));
    ServiceLoader.load(HandlerFactory.class, loader).forEach(all::add);
    return all;
  }

  /**
   * The factory whose {@link HandlerFactory#name()} or class name is {@code name}.
   *
   * @throws ConfigException naming {@code SG_WORKER_HANDLER} and the known handlers when none matches
   */
  public static HandlerFactory find(String name, ClassLoader loader) {
    List<HandlerFactory> all;
    try {
      all = available(loader);
    } catch (java.util.ServiceConfigurationError e) {
      throw new ConfigException("cannot load handler factories: " + e.getMessage(), e);
    }
    for (HandlerFactory f : all) {
      if (f.name().equals(name) || f.getClass().getName().equals(name)) {
        return f;
      }
    }
    TreeSet<String> known = new TreeSet<>();
    all.forEach(f -> known.add(f.name()));
    throw new ConfigException(ConfigSchema.Worker.HANDLER.env(), name,
        "unknown handler; known: " + String.join(", ", known)
            + " (user handlers implement io.sgstreams.worker.HandlerFactory, listed in META-INF/services)");
  }
}
