package io.sgstreams.worker;

import io.micrometer.core.instrument.MeterRegistry;
import io.sgstreams.core.bus.RedisEventBus;
import io.sgstreams.core.config.SgConfig;
import io.sgstreams.core.config.WorkerConfig;
import io.sgstreams.worker.tools.ToolsClient;

/**
 * What a handler may use: the bus (to publish more than its replies), the configuration, the
 * worker section this node runs with ({@code settings}, normally {@code config.worker()}), the
 * tools client and the node's meter registry.
 */
public record WorkerContext(
    RedisEventBus bus, SgConfig config, WorkerConfig settings, ToolsClient tools, MeterRegistry registry) {}
