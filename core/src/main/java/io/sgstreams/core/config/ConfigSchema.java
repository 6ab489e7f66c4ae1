package io.sgstreams.core.config;

import static io.sgstreams.core.config.Setting.of;
import static io.sgstreams.core.config.ValueType.httpUrl;
import static io.sgstreams.core.config.ValueType.intIn;
import static io.sgstreams.core.config.ValueType.longIn;
import static io.sgstreams.core.config.ValueType.millisIn;
import static io.sgstreams.core.config.ValueType.name;
import static io.sgstreams.core.config.ValueType.secondsIn;
import static io.sgstreams.core.config.ValueType.segment;
import static io.sgstreams.core.config.ValueType.text;

import io.sgstreams.core.topology.Role;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The one registry of settings: every setting of every role, with its {@code streams.yaml} key,
 * environment variable, parser and bounds, default, secrecy and a one-line description, grouped in
 * the sections of {@code streams.yaml}; and {@link #build} turning parsed values into the
 * {@link SgConfig} tree. {@link ConfigLoader} reads files and variables through this list only,
 * {@code sg config} prints it and {@code docs/configuration.md} is generated from it.
 *
 * <p>A new section (journal, ops, …) is one nested class here listing its settings, one entry in
 * {@link #SECTIONS}, its record and a component of {@link SgConfig} built in {@link #build}.
 * A section with a role is read by that role only ({@code sg config ROLE} shows it, warnings
 * about it are logged by that role); a setting may narrow that ({@code redis.embedded_*}: standalone).
 */
public final class ConfigSchema {
  private static final int MAX_INT = Integer.MAX_VALUE;
  private static final long MAX_LONG = Long.MAX_VALUE;

  /** A {@code streams.yaml} section: its settings, and the role reading them (null: every role). */
  public record Section(String name, Role role, List<Setting<?>> settings) {
    public Section {
      settings = List.copyOf(settings);
      for (Setting<?> s : settings) {
        if (!s.section().equals(name)) {
          throw new IllegalArgumentException(s.key() + " is not in section " + name);
        }
      }
    }
  }

  private ConfigSchema() {}

  public static final class Redis {
    public static final Setting<String> URL = of("redis.url", "REDIS_URL", ValueType.redisUrl(), null,
        "Redis to use; unset: `sg standalone` starts an embedded Redis, the other roles refuse to start")
        .unsetMeans("embedded (standalone only)").masked();
    public static final Setting<Integer> EMBEDDED_PORT = of("redis.embedded_port", "SG_EMBEDDED_REDIS_PORT",
        intIn(0, 65535), "6399", "port of standalone's embedded Redis (Redis 7.0, started when `redis.url` is unset); 0 = a free port")
        .readBy(Role.STANDALONE);
    public static final Setting<String> EMBEDDED_DIR = of("redis.embedded_dir", "SG_EMBEDDED_REDIS_DIR", text(), null,
        "data directory of standalone's embedded Redis")
        .unsetMeans("{java.io.tmpdir}/sg-redis-{node.id}").readBy(Role.STANDALONE);

    private Redis() {}
  }

  public static final class Node {
    public static final Setting<String> ID = of("node.id", "SG_NODE_ID", segment(), null,
        "this process's stable id (e.g. the pod name): consumer names are `{role}-{id}`")
        .unsetMeans("the host name");

    private Node() {}
  }

  public static final class Streams {
    public static final Setting<String> INBOUND = of("streams.inbound", "SG_INBOUND_STREAM", name(),
        "sg:stream:inbound", "the worker stream");
    public static final Setting<String> OUTBOUND_PREFIX = of("streams.outbound_prefix", "SG_OUTBOUND_STREAM_PREFIX", name(),
        "sg:stream:outbound", "outbound streams are `{prefix}:{platform}`");
    public static final Setting<String> TOOLS = of("streams.tools", "SG_TOOLS_STREAM", name(),
        "sg:stream:tools", "tool requests");
    public static final Setting<String> TOOLS_REPLY_PREFIX = of("streams.tools_reply_prefix", "SG_TOOLS_REPLY_PREFIX", name(),
        "sg:stream:tools:reply", "tool reply streams are `{prefix}:{worker_id}`");
    public static final Setting<Duration> TOOLS_REPLY_TTL = of("streams.tools_reply_ttl_ms", "SG_TOOLS_REPLY_TTL_MS",
        millisIn(10_000, 7L * 24 * 3600 * 1000), "600000",
        "expiry of a tool reply stream: its worker refreshes it every tenth while it lives; the tools node sets it on one that has none");
    public static final Setting<String> DLQ = of("streams.dlq", "SG_DLQ_STREAM", name(),
        "sg:stream:dlq", "dead letters");
    public static final Setting<String> HEARTBEAT_PREFIX = of("streams.heartbeat_prefix", "SG_HEARTBEAT_PREFIX", name(),
        "sg:heartbeat", "`{prefix}:{consumer}`: one key per live consumer name");
    public static final Setting<String> KEYS_PREFIX = of("streams.keys_prefix", "SG_KEYS_PREFIX", name(),
        "sg:keys", "API keys made by `sg keys create`, stored hashed: `{prefix}:digest:{sha256}` per key, `{prefix}:index`");
    public static final Setting<Long> MAXLEN = of("streams.maxlen", "SG_STREAM_MAXLEN", longIn(1, MAX_LONG),
        "100000", "the cap N (below 1000 is raised to 1000): work streams trim only acknowledged entries (`MINID ~`) "
            + "and refuse publishing (`backlog_full`) at N unfinished; tailed streams `MAXLEN ~ N`");
    public static final Setting<Long> DLQ_MAXLEN = of("streams.dlq_maxlen", "SG_DLQ_MAXLEN", longIn(1, MAX_LONG),
        "1000000", "the DLQ's cap");
    public static final Setting<List<String>> PLATFORMS = of("streams.platforms", "SG_PLATFORMS", ValueType.platforms(),
        "web,webhook", "one outbound stream each");

    private Streams() {}
  }

  public static final class Groups {
    public static final Setting<String> WORKERS = of("groups.workers", "SG_WORKER_GROUP", name(),
        "sg:workers", "the workers' group on the inbound stream");
    public static final Setting<String> GATEWAY_PREFIX = of("groups.gateway_prefix", "SG_GATEWAY_GROUP_PREFIX", name(),
        "sg:gateway", "`{prefix}:{platform}`: the webhook delivery group");
    public static final Setting<String> TOOLS = of("groups.tools", "SG_TOOLS_GROUP", name(),
        "sg:tools", "the tools nodes' group on the tools stream");

    private Groups() {}
  }

  public static final class Consumer {
    public static final Setting<Integer> MAX_DELIVERIES = of("consumer.max_deliveries", "SG_MAX_DELIVERIES", intIn(1, MAX_INT),
        "5", "deliveries of a failing entry before it is dead-lettered");
    public static final Setting<Duration> CLAIM_MIN_IDLE = of("consumer.claim_min_idle_ms", "SG_CLAIM_MIN_IDLE_MS",
        millisIn(1, MAX_LONG), "60000",
        "entries idle this long are claimed; live consumers renew theirs every third of it, so handlers may run longer");
    public static final Setting<Duration> CLAIM_INTERVAL = of("consumer.claim_interval_ms", "SG_CLAIM_INTERVAL_MS",
        millisIn(1, MAX_LONG), "5000", "how often to look for entries to claim");
    public static final Setting<Integer> READ_COUNT = of("consumer.read_count", "SG_READ_COUNT", intIn(1, MAX_INT),
        "100", "XREADGROUP COUNT (also bounded by free slots)");
    public static final Setting<Duration> READ_BLOCK = of("consumer.read_block_ms", "SG_READ_BLOCK_MS",
        millisIn(1, MAX_LONG), "2000", "XREADGROUP BLOCK");
    public static final Setting<Integer> CONCURRENCY = of("consumer.concurrency", "SG_WORKER_CONCURRENCY", intIn(1, MAX_INT),
        "64", "entries in flight per consumer (with leased partitions: per partition the worker holds)");
    public static final Setting<Integer> ACK_BATCH = of("consumer.ack_batch", "SG_ACK_BATCH", intIn(1, MAX_INT),
        "256", "most ids per XACK (group commit)");
    public static final Setting<Duration> DRAIN_TIMEOUT = of("consumer.drain_timeout_ms", "SG_DRAIN_TIMEOUT_MS",
        millisIn(0, MAX_LONG), "10000", "shutdown waits this long for in-flight handlers");
    public static final Setting<Duration> HEARTBEAT_TTL = of("consumer.heartbeat_ttl_ms", "SG_HEARTBEAT_TTL_MS",
        millisIn(1, MAX_LONG), "10000",
        "consumer-name heartbeat; a starting node waits up to this for a stale holder, then refuses");
    public static final Setting<Duration> REMOVE_IDLE_CONSUMERS_AFTER = of("consumer.remove_idle_consumers_after_ms",
        "SG_REMOVE_IDLE_CONSUMERS_AFTER_MS", millisIn(1, MAX_LONG), "3600000",
        "consumers idle this long with nothing pending leave their group");

    private Consumer() {}
  }

  public static final class Envelope {
    public static final Setting<Integer> MAX_BYTES = of("envelope.max_bytes", "SG_MAX_ENVELOPE_BYTES",
        intIn(1024, 512 << 20), "1048576", "larger envelopes are refused");

    private Envelope() {}
  }

  public static final class Gateway {
    public static final Setting<String> HOST = of("gateway.host", "SG_HTTP_HOST", text(), "127.0.0.1",
        "bind address");
    public static final Setting<Integer> PORT = of("gateway.port", "SG_HTTP_PORT", intIn(0, 65535), "8080",
        "public HTTP port: the client API and /health; 0 = a free port");
    public static final Setting<List<String>> API_KEYS = of("gateway.api_keys", "SG_API_KEYS", ValueType.list(), "",
        "accepted API keys, `tenant:key` (a bare key: tenant `default`); with `gateway.auth` `auto`, empty = auth off, "
            + "allowed only on a loopback address").masked();
    public static final Setting<String> AUTH = of("gateway.auth", "SG_AUTH", ValueType.oneOf("auto", "keys", "off"), "auto",
        "`keys`: every API request needs a key of `SG_API_KEYS` or one made by `sg keys create` (any address); "
            + "`off`: none does, every caller is tenant `default` (loopback only); `auto`: `keys` when `SG_API_KEYS` is "
            + "set, else `off`");
    public static final Setting<Duration> MAX_WAIT = of("gateway.max_wait_seconds", "SG_MAX_WAIT_SECONDS",
        secondsIn(0, 3600), "30", "cap for `?wait=`");
    public static final Setting<Integer> MAX_BODY_BYTES = of("gateway.max_body_bytes", "SG_MAX_BODY_BYTES",
        intIn(1024, 64 << 20), "1048576", "request body and WebSocket frame limit (413 beyond)");
    public static final Setting<Integer> RATE_LIMIT_PER_MINUTE = of("gateway.rate_limit_per_minute",
        "SG_RATE_LIMIT_PER_MINUTE", intIn(0, MAX_INT), "600",
        "requests per API key (per remote address with auth off); 0 = off");
    public static final Setting<Integer> TENANT_RATE_LIMIT_PER_MINUTE = of("gateway.tenant_rate_limit_per_minute",
        "SG_TENANT_RATE_LIMIT_PER_MINUTE", intIn(0, MAX_INT), "0",
        "requests per tenant, all its keys together (on top of the per-key limit); 0 = off");
    public static final Setting<URI> WEBHOOK_URL = of("gateway.webhook_url", "SG_WEBHOOK_URL", httpUrl(), null,
        "where `webhook` replies are POSTed").unsetMeans("no webhook consumer").masked();
    public static final Setting<Integer> WEBHOOK_MAX_ATTEMPTS = of("gateway.webhook_max_attempts",
        "SG_WEBHOOK_MAX_ATTEMPTS", intIn(1, 100), "5", "attempts before the entry is dead-lettered");
    public static final Setting<Duration> WEBHOOK_BACKOFF = of("gateway.webhook_backoff_ms", "SG_WEBHOOK_BACKOFF_MS",
        millisIn(1, 600_000), "500", "first retry pause, doubled per attempt, at most 30 s");
    public static final Setting<Duration> WEBHOOK_TIMEOUT = of("gateway.webhook_timeout_ms", "SG_WEBHOOK_TIMEOUT_MS",
        millisIn(100, 600_000), "10000", "per attempt (connect and response)");
    public static final Setting<Duration> SSE_HEARTBEAT = of("gateway.sse_heartbeat_ms", "SG_SSE_HEARTBEAT_MS",
        millisIn(100, 3_600_000), "15000", "SSE heartbeat comment and WebSocket ping interval");
    public static final Setting<Duration> IDEMPOTENCY_TTL = of("gateway.idempotency_ttl_seconds",
        "SG_IDEMPOTENCY_TTL_SECONDS", secondsIn(1, 30 * 86_400), "86400",
        "how long an `Idempotency-Key` stays bound to its message (and its reply) for retries");
    public static final Setting<String> ADMIN_HOST = of("gateway.admin_host", "SG_GATEWAY_ADMIN_HOST", text(), "127.0.0.1",
        "address of the gateway's /health, /ready, /metrics (not used by standalone)");
    public static final Setting<Integer> ADMIN_PORT = of("gateway.admin_port", "SG_GATEWAY_ADMIN_PORT", intIn(-1, 65535),
        "9091", "their port; 0 = a free port, -1 = no admin server (not used by standalone: the one admin server has every role's checks)");
    public static final Setting<Duration> IDLE_TIMEOUT = of("gateway.idle_timeout_ms", "SG_HTTP_IDLE_TIMEOUT_MS",
        millisIn(100, 3_600_000), "30000",
        "a connection that has not sent a complete request head within this (a new one, or one kept alive between requests) is closed");
    public static final Setting<Duration> READ_TIMEOUT = of("gateway.read_timeout_ms", "SG_HTTP_READ_TIMEOUT_MS",
        millisIn(100, 3_600_000), "10000", "longest pause between two reads of a request body");
    public static final Setting<Duration> REQUEST_TIMEOUT = of("gateway.request_timeout_ms", "SG_HTTP_REQUEST_TIMEOUT_MS",
        millisIn(100, 3_600_000), "60000", "a request body must have arrived whole within this");
    public static final Setting<Integer> MAX_STREAMS_PER_TENANT = of("gateway.max_streams_per_tenant",
        "SG_MAX_STREAMS_PER_TENANT", intIn(1, MAX_INT), "1000",
        "open SSE streams + WebSockets per tenant on one gateway node (429 `too_many_streams` beyond)");
    public static final Setting<Integer> RESUME_SCAN_PER_MINUTE = of("gateway.resume_scan_per_minute",
        "SG_RESUME_SCAN_PER_MINUTE", intIn(0, MAX_INT), "50000",
        "outbound entries a caller's resumes (`Last-Event-ID`) may scan per minute, all nodes together (then `reset`); 0 = no budget");
    public static final Setting<List<String>> ALLOWED_ORIGINS = of("gateway.allowed_origins", "SG_ALLOWED_ORIGINS",
        ValueType.origins(), "",
        "browser origins (`https://app.example`, or `*`) allowed to open WebSockets besides the gateway's own; a request without `Origin` is not a browser's and is allowed");
    public static final Setting<List<String>> OPS_KEYS = of("gateway.ops_keys", "SG_OPS_KEYS", ValueType.list(), "",
        "keys for the monitoring API and the ops page on the admin port (`GET /v1/streams`, `/ops`), separate from "
            + "tenants' API keys; empty = open, allowed only when the admin port listens on a loopback address").masked();

    private Gateway() {}
  }

  public static final class Worker {
    public static final Setting<String> HANDLER = of("worker.handler", "SG_WORKER_HANDLER", text(), "echo",
        "`echo`, `openai`, or the name or class name of a user `HandlerFactory`");
    public static final Setting<String> ADMIN_HOST = of("worker.admin_host", "SG_WORKER_ADMIN_HOST", text(), "127.0.0.1",
        "address of the worker's /health, /ready, /metrics (standalone: of the one admin server)")
        .formerly("SG_ADMIN_HOST");
    public static final Setting<Integer> ADMIN_PORT = of("worker.admin_port", "SG_WORKER_ADMIN_PORT", intIn(-1, 65535),
        "9090", "their port; 0 = a free port, -1 = no admin server (standalone: the one admin server, every role's checks)")
        .formerly("SG_ADMIN_PORT");
    public static final Setting<Duration> TOOL_CALL_TIMEOUT = of("worker.tool_call_timeout_ms", "SG_TOOL_CALL_TIMEOUT_MS",
        millisIn(1, MAX_LONG), "30000", "how long a tool call waits for its reply")
        .formerly("SG_TOOL_TIMEOUT_MS");
    public static final Setting<Duration> HANDLER_TIMEOUT = of("worker.handler_timeout_ms", "SG_HANDLER_TIMEOUT_MS",
        millisIn(1, MAX_LONG), "120000",
        "one handler attempt, tool calls and LLM included (a timeout leaves the entry pending: redelivered, then dead-lettered)");
    public static final Setting<Integer> MAX_PENDING_TOOL_CALLS = of("worker.max_pending_tool_calls", "SG_TOOLS_MAX_PENDING",
        intIn(1, 1_000_000), "10000", "tool calls waiting at once per worker; more fail fast (`tools_busy`)");
    public static final Setting<String> OPENAI_BASE_URL = of("worker.openai_base_url", "OPENAI_BASE_URL",
        ValueType.baseUrl(), "https://api.openai.com/v1", "the `openai` handler posts to `{url}/chat/completions`");
    public static final Setting<String> OPENAI_API_KEY = of("worker.openai_api_key", "OPENAI_API_KEY", text(), null,
        "sent as `Authorization: Bearer …`").unsetMeans("no key").masked();
    public static final Setting<String> OPENAI_MODEL = of("worker.openai_model", "OPENAI_MODEL", text(), "gpt-4o-mini",
        "the model asked");
    public static final Setting<Integer> OPENAI_MAX_TOOL_ROUNDS = of("worker.openai_max_tool_rounds",
        "SG_OPENAI_MAX_TOOL_ROUNDS", intIn(0, 64), "4", "model → tools → model rounds before an `error` reply");
    public static final Setting<String> OPENAI_SYSTEM_PROMPT = of("worker.openai_system_prompt", "SG_OPENAI_SYSTEM_PROMPT",
        text(), null, "a system message put first").unsetMeans("none");
    public static final Setting<Duration> OPENAI_TIMEOUT = of("worker.openai_timeout_ms", "SG_OPENAI_TIMEOUT_MS",
        millisIn(1, MAX_LONG), "60000", "one HTTP exchange with the model (a streamed answer: the longest pause between two chunks)");
    public static final Setting<Duration> STREAM_DELTA = of("worker.stream_delta_ms", "SG_STREAM_DELTA_MS",
        millisIn(1, 60_000), "50", "a streamed answer is published as `delta` replies at most this often…");
    public static final Setting<Integer> STREAM_DELTA_TOKENS = of("worker.stream_delta_tokens", "SG_STREAM_DELTA_TOKENS",
        intIn(1, 100_000), "64", "…or every this many tokens (model chunks), whichever comes first");
    public static final Setting<Integer> HISTORY_TURNS = of("worker.openai_history_turns", "SG_OPENAI_HISTORY_TURNS",
        intIn(0, 1000), "10", "earlier turns (user message + answer) of the conversation sent to the model; 0 = none");
    public static final Setting<Integer> HISTORY_MAX_CHARS = of("worker.openai_history_max_chars",
        "SG_OPENAI_HISTORY_MAX_CHARS", intIn(0, 10_000_000), "16000",
        "most characters of history sent (the oldest turns are dropped first)");
    public static final Setting<Duration> HISTORY_TTL = of("worker.openai_history_ttl_ms", "SG_OPENAI_HISTORY_TTL_MS",
        millisIn(1000, 90L * 24 * 3600 * 1000), "86400000", "a conversation's memory expires this long after its last turn");
    public static final Setting<String> HISTORY_PREFIX = of("worker.openai_history_prefix", "SG_OPENAI_HISTORY_PREFIX",
        name(), "sg:memory", "conversation memory keys are `{prefix}:{hash of tenant, platform, channel}`");

    private Worker() {}
  }

  public static final class Tools {
    public static final Setting<String> ADMIN_HOST = of("tools.admin_host", "SG_TOOLS_ADMIN_HOST", text(), "127.0.0.1",
        "address of the tools node's /health, /ready, /metrics (not used by standalone)")
        .formerly("SG_ADMIN_HOST");
    public static final Setting<Integer> ADMIN_PORT = of("tools.admin_port", "SG_TOOLS_ADMIN_PORT", intIn(-1, 65535),
        "9090", "their port; 0 = a free port, -1 = no admin server (not used by standalone)")
        .formerly("SG_ADMIN_PORT");
    public static final Setting<Duration> TIMEOUT = of("tools.timeout_ms", "SG_TOOL_TIMEOUT_MS", millisIn(1, 600_000),
        "10000", "how long a tool that declares no timeout of its own may run");
    public static final Setting<Integer> CALC_MAX_EXPR_CHARS = of("tools.calc_max_expr_chars", "SG_CALC_MAX_EXPR_CHARS",
        intIn(1, 100_000), "1000", "longest `calc` expression");

    private Tools() {}
  }

  public static final class Resilience {
    public static final Setting<Integer> BREAKER_FAILURES = of("resilience.breaker_failures", "SG_BREAKER_FAILURES",
        intIn(1, 10_000), "5", "failures (errors or timeouts) among the last `breaker_window` calls that open a circuit breaker");
    public static final Setting<Integer> BREAKER_WINDOW = of("resilience.breaker_window", "SG_BREAKER_WINDOW",
        intIn(1, 10_000), "10", "recent calls a breaker looks at");
    public static final Setting<Duration> BREAKER_OPEN = of("resilience.breaker_open_ms", "SG_BREAKER_OPEN_MS",
        millisIn(1, 24L * 3600 * 1000), "30000",
        "an open breaker refuses calls this long (answers come back at once: `upstream_unavailable`), then tries a few");
    public static final Setting<Integer> BULKHEAD_MAX_CONCURRENT = of("resilience.bulkhead_max_concurrent",
        "SG_BULKHEAD_MAX_CONCURRENT", intIn(1, 1_000_000), "64",
        "calls in progress at once to one outside service (model, webhook, tools); more are refused at once");

    private Resilience() {}
  }

  public static final class Journal {
    public static final Setting<String> MODE = of("journal.mode", "SG_JOURNAL", ValueType.oneOf("auto", "on", "off"), "auto",
        "`on`: gateways (and standalone) journal every envelope and dead letter to PostgreSQL and refuse to start without "
            + "`POSTGRES_URL`; `auto`: on when `POSTGRES_URL` is set (standalone: always, embedded when unset); `off`: never "
            + "(its group then holds no trimming back)");
    public static final Setting<String> POSTGRES_URL = of("journal.postgres_url", "POSTGRES_URL", ValueType.postgresUrl(), null,
        "the journal's database, `postgresql://USER[:PASSWORD]@HOST[:PORT]/DB` or `r2dbc:postgresql://…`; also read by "
            + "workers for conversation memory").unsetMeans("no journal (standalone: embedded PostgreSQL)").masked();
    public static final Setting<String> GROUP = of("journal.group", "SG_JOURNAL_GROUP", name(), "sg:journal",
        "the journal's consumer group on the inbound, outbound and DLQ streams (an observer: it never blocks delivery)");
    public static final Setting<Integer> BATCH = of("journal.batch_size", "SG_JOURNAL_BATCH", intIn(1, 5000), "500",
        "rows per INSERT");
    public static final Setting<Duration> FLUSH = of("journal.flush_ms", "SG_JOURNAL_FLUSH_MS", millisIn(1, 60_000), "50",
        "a partial batch is written after this long");
    public static final Setting<Integer> MAX_IN_FLIGHT = of("journal.max_in_flight", "SG_JOURNAL_MAX_IN_FLIGHT",
        intIn(1, 1_000_000), "5000", "entries read and not yet committed; the journal stops reading beyond (back-pressure)");
    public static final Setting<Integer> POOL = of("journal.pool_size", "SG_JOURNAL_POOL", intIn(1, 256), "4",
        "PostgreSQL connections per process");
    public static final Setting<Duration> RETRY_MAX = of("journal.retry_max_ms", "SG_JOURNAL_RETRY_MAX_MS",
        millisIn(100, 3_600_000), "10000",
        "longest pause between two attempts to write a batch while PostgreSQL is down (entries stay pending meanwhile)");
    public static final Setting<Integer> EMBEDDED_PORT = of("journal.embedded_port", "SG_EMBEDDED_POSTGRES_PORT",
        intIn(0, 65535), "5433", "port of standalone's embedded PostgreSQL (started when `postgres_url` is unset); 0 = a free port")
        .readBy(Role.STANDALONE);
    public static final Setting<String> EMBEDDED_DIR = of("journal.embedded_dir", "SG_EMBEDDED_POSTGRES_DIR", text(), null,
        "data directory of standalone's embedded PostgreSQL (kept across restarts)")
        .unsetMeans("{java.io.tmpdir}/sg-postgres-{node.id}").readBy(Role.STANDALONE);

    private Journal() {}
  }

  /** {@code partitions.*}: partitioned streams (Redis Cluster scale-out). */
  public static final class Partitions {
    public static final Setting<Integer> COUNT = of("partitions.count", "SG_PARTITIONS", intIn(1, 1024), "1",
        "partitions per stream (P): 1 = one key per stream; > 1 = P keys `name:{tag}` (set once per deployment: stored in Redis, a node with another P refuses to start)");
    public static final Setting<String> ASSIGNMENT = of("partitions.assignment", "SG_PARTITION_ASSIGNMENT",
        ValueType.oneOf("auto", "lease", "shared"), "auto",
        "`lease`: one worker reads a partition at a time (order per conversation across pods); `shared`: every worker reads every partition; `auto`: lease when P > 1");
    public static final Setting<Duration> LEASE_TTL = of("partitions.lease_ttl_ms", "SG_LEASE_TTL_MS",
        millisIn(300, 600_000), "10000", "a partition lease lives this long unless renewed (every third of it)");
    public static final Setting<Integer> PUBLISH_REPLICAS = of("partitions.publish_replicas", "SG_PUBLISH_REPLICAS",
        intIn(0, 16), "0",
        "a gateway's publish waits (WAIT) for this many replicas to have it before answering 2xx; 0 = don't wait");
    public static final Setting<String> ORDERING = of("partitions.ordering", "SG_ORDERING",
        ValueType.oneOf("local", "channel-lock"), "local",
        "`local`: each worker keeps a conversation in order (across workers too when partitions are leased); `channel-lock` (shared assignment only): a conversation's entries run one at a time in stream order across all workers (a ticket queue per conversation)");

    private Partitions() {}
  }

  /** Every section, in {@code streams.yaml} order. */
  public static final List<Section> SECTIONS = List.of(
      new Section("redis", null, List.of(Redis.URL, Redis.EMBEDDED_PORT, Redis.EMBEDDED_DIR)),
      new Section("node", null, List.of(Node.ID)),
      new Section("streams", null, List.of(Streams.INBOUND, Streams.OUTBOUND_PREFIX,
          Streams.TOOLS, Streams.TOOLS_REPLY_PREFIX, Streams.TOOLS_REPLY_TTL, Streams.DLQ, Streams.HEARTBEAT_PREFIX,
          Streams.KEYS_PREFIX, Streams.MAXLEN, Streams.DLQ_MAXLEN, Streams.PLATFORMS)),
      new Section("partitions", null, List.of(Partitions.COUNT, Partitions.ASSIGNMENT, Partitions.LEASE_TTL,
          Partitions.PUBLISH_REPLICAS, Partitions.ORDERING)),
      new Section("groups", null, List.of(Groups.WORKERS, Groups.GATEWAY_PREFIX, Groups.TOOLS)),
      new Section("consumer", null, List.of(
          Consumer.MAX_DELIVERIES, Consumer.CLAIM_MIN_IDLE, Consumer.CLAIM_INTERVAL, Consumer.READ_COUNT,
          Consumer.READ_BLOCK, Consumer.CONCURRENCY, Consumer.ACK_BATCH, Consumer.DRAIN_TIMEOUT, Consumer.HEARTBEAT_TTL,
          Consumer.REMOVE_IDLE_CONSUMERS_AFTER)),
      new Section("envelope", null, List.of(Envelope.MAX_BYTES)),
      new Section("gateway", Role.GATEWAY, List.of(Gateway.HOST, Gateway.PORT, Gateway.API_KEYS, Gateway.AUTH,
          Gateway.MAX_WAIT, Gateway.MAX_BODY_BYTES, Gateway.RATE_LIMIT_PER_MINUTE, Gateway.TENANT_RATE_LIMIT_PER_MINUTE,
          Gateway.WEBHOOK_URL,
          Gateway.WEBHOOK_MAX_ATTEMPTS, Gateway.WEBHOOK_BACKOFF, Gateway.WEBHOOK_TIMEOUT, Gateway.SSE_HEARTBEAT,
          Gateway.IDEMPOTENCY_TTL, Gateway.ADMIN_HOST, Gateway.ADMIN_PORT, Gateway.IDLE_TIMEOUT, Gateway.READ_TIMEOUT,
          Gateway.REQUEST_TIMEOUT, Gateway.MAX_STREAMS_PER_TENANT, Gateway.RESUME_SCAN_PER_MINUTE, Gateway.ALLOWED_ORIGINS,
          Gateway.OPS_KEYS)),
      new Section("worker", Role.WORKER, List.of(Worker.HANDLER, Worker.ADMIN_HOST,
          Worker.ADMIN_PORT, Worker.TOOL_CALL_TIMEOUT, Worker.HANDLER_TIMEOUT, Worker.MAX_PENDING_TOOL_CALLS,
          Worker.OPENAI_BASE_URL, Worker.OPENAI_API_KEY, Worker.OPENAI_MODEL, Worker.OPENAI_MAX_TOOL_ROUNDS,
          Worker.OPENAI_SYSTEM_PROMPT, Worker.OPENAI_TIMEOUT, Worker.STREAM_DELTA, Worker.STREAM_DELTA_TOKENS,
          Worker.HISTORY_TURNS, Worker.HISTORY_MAX_CHARS, Worker.HISTORY_TTL, Worker.HISTORY_PREFIX)),
      new Section("tools", Role.TOOLS, List.of(Tools.ADMIN_HOST, Tools.ADMIN_PORT, Tools.TIMEOUT,
          Tools.CALC_MAX_EXPR_CHARS)),
      new Section("journal", null, List.of(Journal.MODE, Journal.POSTGRES_URL, Journal.GROUP, Journal.BATCH,
          Journal.FLUSH, Journal.MAX_IN_FLIGHT, Journal.POOL, Journal.RETRY_MAX, Journal.EMBEDDED_PORT, Journal.EMBEDDED_DIR)),
      new Section("resilience", null, List.of(Resilience.BREAKER_FAILURES, Resilience.BREAKER_WINDOW,
          Resilience.BREAKER_OPEN, Resilience.BULKHEAD_MAX_CONCURRENT)));

  private static final List<Setting<?>> ALL = SECTIONS.stream()
      .<Setting<?>>flatMap(s -> s.settings().stream()).toList();

  static {
    List<String> seen = new ArrayList<>();
    for (Setting<?> s : ALL) {
      if (seen.contains(s.key()) || seen.contains(s.env())) {
        throw new ExceptionInInitializerError("two settings are " + s.key() + " or read " + s.env());
      }
      seen.add(s.key());
      seen.add(s.env());
    }
  }

  /** Every setting, in section order. */
  public static List<Setting<?>> settings() {
    return ALL;
  }

  public static Optional<Section> section(String name) {
    return SECTIONS.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public static Optional<Setting<?>> setting(String key) {
    return ALL.stream().filter(s -> s.key().equals(key)).findFirst();
  }

  /** Every default, node id {@code default}. */
  public static SgConfig defaults() {
    return Defaults.VALUE;
  }

  private static final class Defaults {
    static final SgConfig VALUE = SgConfig.defaults("default");
  }

  /**
   * The tree from parsed values (a setting without a value is unset).
   *
   * @param hostName the node id when {@code node.id} is unset
   */
  static SgConfig build(Values v, String hostName) {
    String nodeId = v.opt(Node.ID).orElse(hostName);
    return new SgConfig(
        new RedisConfig(v.opt(Redis.URL), v.get(Redis.EMBEDDED_PORT),
            Path.of(v.opt(Redis.EMBEDDED_DIR).orElse(System.getProperty("java.io.tmpdir") + "/sg-redis-" + nodeId))),
        nodeId,
        new Topology(
            v.get(Streams.INBOUND), v.get(Groups.WORKERS), v.get(Streams.OUTBOUND_PREFIX), v.get(Groups.GATEWAY_PREFIX),
            v.get(Streams.TOOLS), v.get(Groups.TOOLS), v.get(Streams.TOOLS_REPLY_PREFIX), v.get(Streams.DLQ),
            v.get(Streams.HEARTBEAT_PREFIX), v.get(Streams.MAXLEN), v.get(Streams.DLQ_MAXLEN), v.get(Streams.PLATFORMS),
            v.get(Streams.TOOLS_REPLY_TTL), v.get(Streams.KEYS_PREFIX)),
        new ConsumerSettings(
            v.get(Consumer.MAX_DELIVERIES), v.get(Consumer.CLAIM_MIN_IDLE), v.get(Consumer.CLAIM_INTERVAL),
            v.get(Consumer.READ_COUNT), v.get(Consumer.READ_BLOCK), v.get(Consumer.CONCURRENCY),
            v.get(Consumer.ACK_BATCH), v.get(Consumer.DRAIN_TIMEOUT), v.get(Consumer.HEARTBEAT_TTL),
            v.get(Consumer.REMOVE_IDLE_CONSUMERS_AFTER)),
        v.get(Envelope.MAX_BYTES),
        new GatewayConfig(
            v.get(Gateway.HOST), v.get(Gateway.PORT), v.get(Gateway.API_KEYS), v.get(Gateway.MAX_WAIT),
            v.get(Gateway.MAX_BODY_BYTES), v.get(Gateway.RATE_LIMIT_PER_MINUTE), v.opt(Gateway.WEBHOOK_URL),
            v.get(Gateway.WEBHOOK_MAX_ATTEMPTS), v.get(Gateway.WEBHOOK_BACKOFF), v.get(Gateway.WEBHOOK_TIMEOUT),
            v.get(Gateway.SSE_HEARTBEAT), v.get(Gateway.IDEMPOTENCY_TTL), GatewayConfig.Auth.parse(v.get(Gateway.AUTH)),
            v.get(Gateway.TENANT_RATE_LIMIT_PER_MINUTE), v.get(Gateway.ADMIN_HOST),
            v.get(Gateway.ADMIN_PORT), v.get(Gateway.IDLE_TIMEOUT), v.get(Gateway.READ_TIMEOUT),
            v.get(Gateway.REQUEST_TIMEOUT), v.get(Gateway.MAX_STREAMS_PER_TENANT), v.get(Gateway.RESUME_SCAN_PER_MINUTE),
            v.get(Gateway.ALLOWED_ORIGINS), v.get(Gateway.OPS_KEYS)),
        new WorkerConfig(
            v.get(Worker.HANDLER), v.get(Worker.ADMIN_HOST), v.get(Worker.ADMIN_PORT), v.get(Worker.TOOL_CALL_TIMEOUT),
            v.get(Worker.HANDLER_TIMEOUT), v.get(Worker.MAX_PENDING_TOOL_CALLS), v.get(Worker.OPENAI_BASE_URL),
            v.opt(Worker.OPENAI_API_KEY), v.get(Worker.OPENAI_MODEL), v.get(Worker.OPENAI_MAX_TOOL_ROUNDS),
            v.opt(Worker.OPENAI_SYSTEM_PROMPT), v.get(Worker.OPENAI_TIMEOUT), v.get(Worker.STREAM_DELTA),
            v.get(Worker.STREAM_DELTA_TOKENS), v.get(Worker.HISTORY_TURNS), v.get(Worker.HISTORY_MAX_CHARS),
            v.get(Worker.HISTORY_TTL), v.get(Worker.HISTORY_PREFIX)),
        new ToolsConfig(v.get(Tools.ADMIN_HOST), v.get(Tools.ADMIN_PORT), v.get(Tools.TIMEOUT),
            v.get(Tools.CALC_MAX_EXPR_CHARS)),
        new ResilienceConfig(v.get(Resilience.BREAKER_FAILURES), v.get(Resilience.BREAKER_WINDOW),
            v.get(Resilience.BREAKER_OPEN), v.get(Resilience.BULKHEAD_MAX_CONCURRENT)),
        new JournalConfig(JournalConfig.Mode.parse(v.get(Journal.MODE)), v.opt(Journal.POSTGRES_URL), v.get(Journal.GROUP),
            v.get(Journal.BATCH), v.get(Journal.FLUSH), v.get(Journal.MAX_IN_FLIGHT), v.get(Journal.POOL),
            v.get(Journal.RETRY_MAX), v.get(Journal.EMBEDDED_PORT),
            Path.of(v.opt(Journal.EMBEDDED_DIR).orElse(System.getProperty("java.io.tmpdir") + "/sg-postgres-" + nodeId))),
        new PartitionsConfig(v.get(Partitions.COUNT), PartitionsConfig.Assignment.parse(v.get(Partitions.ASSIGNMENT)),
            v.get(Partitions.LEASE_TTL), v.get(Partitions.PUBLISH_REPLICAS),
            PartitionsConfig.Ordering.parse(v.get(Partitions.ORDERING))));
  }

}
