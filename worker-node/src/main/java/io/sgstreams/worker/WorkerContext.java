package io.sgstreams.worker;

import io.sgstreams.journal.JournalStore;
import java.util.Optional;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.worker.tools.ToolsClient;

/**
 * What a handler may use: the bus (to publish more than its replies), the configuration, the
 * worker section this node runs with ({@code settings}, normally {@code config.worker()}), the
 * tools client, the node's meter registry, and the journal's tables when {@code POSTGRES_URL} is
 * set (read-only use: a conversation's history; the node owns and closes it).
 */
public record WorkerContext(
    RedisEventBus bus, SgConfig config, WorkerConfig settings, ToolsClient tools, MeterRegistry registry,
    Optional<JournalStore> journal) {

  public WorkerContext {
    journal = journal == null ? Optional.empty() : journal;
  }

  /** Without a journal. */
  public WorkerContext(RedisEventBus bus, SgConfig config, WorkerConfig settings, ToolsClient tools, MeterRegistry registry) {
    this(bus, config, settings, tools, registry, Optional.empty());
  }
}
