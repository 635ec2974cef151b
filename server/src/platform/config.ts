import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { TrustedProxies } from "./net/client-address";
import { type AddressRange, parseAddressRange } from "./net/ip-ranges";

// Every setting is read from the environment once, validated, and documented with its
// default here; README.md lists the same table for users.
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes"].includes(v)));

const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const schema = z.object({
  /** development | production | test. Production turns introspection and the landing page off. */
  OURO_ENV: z.enum(["development", "production", "test"]).default("development"),
  /** PostgreSQL URL. Unset: Ouro starts an embedded PostgreSQL under OURO_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  /** Where the embedded database, artifacts and local state live. */
  OURO_DATA_DIR: z.string().default(".ouro"),
  /** Port of the embedded PostgreSQL (loopback only). */
  OURO_EMBEDDED_PG_PORT: int(54329, 1),
  OURO_HOST: z.string().default("127.0.0.1"),
  OURO_PORT: int(4000, 0),
  OURO_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Introspection and the Apollo landing page; default on outside production. */
  OURO_INTROSPECTION: bool(true).optional(),
  /** Database connections per process. */
  OURO_DB_POOL_SIZE: int(10, 1),
  /** Jobs one worker process runs at once. */
  OURO_WORKER_CONCURRENCY: int(4, 1),
  /** A worker silent this long is dead: its jobs go back to the queue. */
  OURO_WORKER_LEASE_SECONDS: int(30, 2),
  /** A running run without heartbeat or metrics this long is marked failed. */
  OURO_RUN_TIMEOUT_SECONDS: int(600, 5),
  /** Tries before a job fails for good (with exponential backoff between them). */
  OURO_JOB_MAX_ATTEMPTS: int(5, 1),
  /** Largest HTTP request body (bytes). */
  OURO_MAX_BODY_BYTES: int(4 * 1024 * 1024, 1024),
  /** Largest WebSocket frame (bytes); larger frames close the socket with 1009. */
  OURO_WS_MAX_PAYLOAD_BYTES: int(1024 * 1024, 1024),
  /** Open subscriptions allowed on one WebSocket. */
  OURO_WS_MAX_SUBSCRIPTIONS: int(100, 1),
  OURO_GRAPHQL_MAX_DEPTH: int(6, 1),
  OURO_GRAPHQL_MAX_ALIASES: int(15, 1),
  OURO_GRAPHQL_MAX_TOKENS: int(1000, 10),
  OURO_GRAPHQL_MAX_DIRECTIVES: int(50, 1),
  OURO_GRAPHQL_MAX_COST: int(5000, 1),
  /** Serve /metrics without a token (for a Prometheus inside a trusted network). */
  OURO_METRICS_PUBLIC: bool(false),
  /** Artifact store root; default <OURO_DATA_DIR>/artifacts. */
  OURO_ARTIFACT_DIR: z.string().optional(),
  /** Grace period for SIGTERM: in-flight requests and jobs get this long to finish. */
  OURO_SHUTDOWN_GRACE_SECONDS: int(20, 0),
  /** Server directories `ingestDataset` may read files from (comma-separated); none by default. */
  OURO_INGEST_ROOTS: z.string().default(""),
  /** Let URL ingestion reach loopback, private and link-local addresses (off: SSRF protection). */
  OURO_INGEST_ALLOW_PRIVATE_URLS: bool(false),
  /** Non-public addresses and CIDR ranges URL ingestion may reach anyway (comma-separated, IPv4 and IPv6); none by default. */
  OURO_INGEST_ALLOWED_HOSTS: z.string().default(""),
  /** PEM file of extra CA certificates trusted for https URL ingestion, besides the ones Node trusts by default (a corporate CA). */
  OURO_INGEST_CA_FILE: z.string().optional(),
  /** Named PostgreSQL sources for SQL ingestion, as JSON: {"warehouse": "postgres://..."}. */
  OURO_SQL_SOURCES: z.string().default("{}"),
  /** Largest upload or download accepted for ingestion (bytes). */
  OURO_MAX_INGEST_BYTES: int(2 * 1024 * 1024 * 1024, 1024),
  /** Most rows a SQL ingestion may return. */
  OURO_SQL_MAX_ROWS: int(10_000_000, 1),
  /** Key that pipeline webhook secrets are derived from (≥ 32 characters). Unset: a random key kept in the database. */
  OURO_SECRET_KEY: z.string().min(32).optional(),
  /** How often a worker advances pipeline runs and checks cron triggers (ms). */
  OURO_PIPELINE_TICK_MS: int(1000, 50),
  /** Most rows one predict request may carry. */
  OURO_SERVING_MAX_ROWS: int(1000, 1),
  /** Predict requests one process serves at once; more get 503 (overload), never unbounded memory. */
  OURO_SERVING_MAX_CONCURRENT: int(512, 1),
  /** Rows a micro-batching model may hold waiting; beyond that requests get 429. */
  OURO_SERVING_MAX_QUEUED_ROWS: int(8192, 1),
  /** Scoring kernel: auto (compiled Dense kernel where the model allows, else TensorFlow.js) or tfjs (always TensorFlow.js). */
  OURO_SERVING_KERNEL: z.enum(["auto", "tfjs"]).default("auto"),
  /** How often a worker checks canary rollouts for promotion (ms). */
  OURO_ROLLOUT_CHECK_MS: int(5000, 50),
  /** Prediction log rows buffered in memory before new ones are dropped (and counted). */
  OURO_PREDICTION_LOG_BUFFER: int(100_000, 1),
  /** The prediction log writes at least this often (ms). */
  OURO_PREDICTION_LOG_FLUSH_MS: int(200, 10),
  /** How often each worker looks for monitor windows that are due (seconds). */
  OURO_MONITOR_SCHEDULER_SECONDS: int(30, 1),
  /** Most logged predictions one monitor window evaluates. */
  OURO_MONITOR_MAX_WINDOW_ROWS: int(100_000, 1),
  /** Let alert webhooks reach loopback, private and link-local addresses (off: SSRF protection). */
  OURO_WEBHOOK_ALLOW_PRIVATE_URLS: bool(false),
  /** The non-public addresses and ranges alert webhooks may reach while OURO_WEBHOOK_ALLOW_PRIVATE_URLS is off (comma-separated; never the cloud metadata address). */
  OURO_WEBHOOK_ALLOWED_HOSTS: z.string().default(""),
  /** Fault injection for crash tests: each export chunk sleeps this long. Leave 0. */
  OURO_FAULT_SLOW_TASK_MS: int(0, 0),
  /** Event batches one server process handles at once; one more gets 429 with Retry-After. Keep it below OURO_DB_POOL_SIZE. */
  OURO_EVENTS_MAX_IN_FLIGHT: int(8, 1),
  /** Most events in one batch (HTTP or GraphQL). */
  OURO_EVENTS_MAX_BATCH: int(10_000, 1),
  /** Largest body of POST /v1/events/{featureSet} (bytes). */
  OURO_EVENTS_MAX_BODY_BYTES: int(8 * 1024 * 1024, 1024),
  /** Retry-After (seconds) sent with 429 when event ingestion is at capacity. */
  OURO_EVENTS_RETRY_AFTER_SECONDS: int(1, 1),
  /** Minute buckets of event windows one server process keeps in memory per feature set (least recently updated entities dropped beyond it, rebuilt from the history when needed). */
  OURO_EVENTS_CACHE_BUCKETS: int(200_000, 1),
  /** Days of event history kept: workers drop whole day partitions older than this, never history a feature set's windows still need (domains/events/retention.ts). 0 keeps it forever. */
  OURO_EVENTS_RETENTION_DAYS: int(0, 0),
  /** Wrong API tokens one client address may present per window before it gets 429 (HTTP) or 4429 (WebSocket). */
  OURO_AUTH_MAX_FAILURES: int(20, 1),
  /** Length of that window (seconds); a blocked client may try again when it ends. */
  OURO_AUTH_FAILURE_WINDOW_SECONDS: int(60, 1),
  /** Reverse proxies (addresses and CIDR ranges, comma-separated) whose X-Forwarded-For names the caller, for the wrong-token limiter. Unset: the socket's peer is the caller. */
  OURO_TRUST_PROXY: z.string().default(""),
  /** An upload that sends no bytes for this long is aborted (slowloris): its partial file is deleted (ms). */
  OURO_UPLOAD_IDLE_TIMEOUT_MS: int(30_000, 100),
  /** How long a request waits for a free database connection before it fails with 503 (ms). */
  OURO_DB_CONNECT_TIMEOUT_MS: int(5000, 100),
  /** NATS server(s) that workers read attached JetStream event streams from (comma-separated nats:// or tls:// URLs). Unset: no stream consumption. */
  OURO_NATS_URL: z.string().optional(),
});

export type Config = ReturnType<typeof readConfig>;

export function readConfig(env: NodeJS.ProcessEnv = process.env) {
  // `OURO_PORT=` means "not set", not 0.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  const dataDir = path.resolve(c.OURO_DATA_DIR);
  return {
    env: c.OURO_ENV,
    databaseUrl: c.DATABASE_URL,
    dataDir,
    embeddedPgPort: c.OURO_EMBEDDED_PG_PORT,
    host: c.OURO_HOST,
    port: c.OURO_PORT,
    logLevel: c.OURO_LOG_LEVEL,
    introspection: c.OURO_INTROSPECTION ?? c.OURO_ENV !== "production",
    dbPoolSize: c.OURO_DB_POOL_SIZE,
    worker: {
      concurrency: c.OURO_WORKER_CONCURRENCY,
      leaseSeconds: c.OURO_WORKER_LEASE_SECONDS,
      maxAttempts: c.OURO_JOB_MAX_ATTEMPTS,
      faultSlowTaskMs: c.OURO_FAULT_SLOW_TASK_MS,
    },
    runTimeoutSeconds: c.OURO_RUN_TIMEOUT_SECONDS,
    secretKey: c.OURO_SECRET_KEY ?? null,
    pipelineTickMs: c.OURO_PIPELINE_TICK_MS,
    limits: {
      maxBodyBytes: c.OURO_MAX_BODY_BYTES,
      wsMaxPayloadBytes: c.OURO_WS_MAX_PAYLOAD_BYTES,
      wsMaxSubscriptions: c.OURO_WS_MAX_SUBSCRIPTIONS,
      maxDepth: c.OURO_GRAPHQL_MAX_DEPTH,
      maxAliases: c.OURO_GRAPHQL_MAX_ALIASES,
      maxTokens: c.OURO_GRAPHQL_MAX_TOKENS,
      maxDirectives: c.OURO_GRAPHQL_MAX_DIRECTIVES,
      maxCost: c.OURO_GRAPHQL_MAX_COST,
    },
    serving: {
      maxRows: c.OURO_SERVING_MAX_ROWS,
      maxConcurrent: c.OURO_SERVING_MAX_CONCURRENT,
      maxQueuedRows: c.OURO_SERVING_MAX_QUEUED_ROWS,
      kernel: c.OURO_SERVING_KERNEL,
      logBuffer: c.OURO_PREDICTION_LOG_BUFFER,
      logFlushMs: c.OURO_PREDICTION_LOG_FLUSH_MS,
      rolloutCheckMs: c.OURO_ROLLOUT_CHECK_MS,
    },
    auth: {
      maxFailures: c.OURO_AUTH_MAX_FAILURES,
      failureWindowSeconds: c.OURO_AUTH_FAILURE_WINDOW_SECONDS,
      trustedProxies: parseTrustedProxies(c.OURO_TRUST_PROXY),
    },
    dbConnectTimeoutMs: c.OURO_DB_CONNECT_TIMEOUT_MS,
    metricsPublic: c.OURO_METRICS_PUBLIC,
    artifactDir: path.resolve(c.OURO_ARTIFACT_DIR ?? path.join(dataDir, "artifacts")),
    shutdownGraceSeconds: c.OURO_SHUTDOWN_GRACE_SECONDS,
    events: {
      maxInFlight: c.OURO_EVENTS_MAX_IN_FLIGHT,
      maxEventsPerBatch: c.OURO_EVENTS_MAX_BATCH,
      maxBodyBytes: c.OURO_EVENTS_MAX_BODY_BYTES,
      retryAfterSeconds: c.OURO_EVENTS_RETRY_AFTER_SECONDS,
      cacheBuckets: c.OURO_EVENTS_CACHE_BUCKETS,
      retentionDays: c.OURO_EVENTS_RETENTION_DAYS,
    },
    nats: { servers: parseNatsServers(c.OURO_NATS_URL) },
    monitoring: {
      schedulerSeconds: c.OURO_MONITOR_SCHEDULER_SECONDS,
      maxWindowRows: c.OURO_MONITOR_MAX_WINDOW_ROWS,
      webhookReach: { allowPrivate: c.OURO_WEBHOOK_ALLOW_PRIVATE_URLS, allowedHosts: parseAllowedHosts("OURO_WEBHOOK_ALLOWED_HOSTS", c.OURO_WEBHOOK_ALLOWED_HOSTS) },
    },
    ingest: {
      roots: c.OURO_INGEST_ROOTS.split(",").map((r) => r.trim()).filter(Boolean).map((r) => path.resolve(r)),
      allowPrivateUrls: c.OURO_INGEST_ALLOW_PRIVATE_URLS,
      allowedHosts: parseAllowedHosts("OURO_INGEST_ALLOWED_HOSTS", c.OURO_INGEST_ALLOWED_HOSTS),
      extraCaCertificates: readCaFile(c.OURO_INGEST_CA_FILE),
      sqlSources: parseSqlSources(c.OURO_SQL_SOURCES),
      maxBytes: c.OURO_MAX_INGEST_BYTES,
      uploadIdleTimeoutMs: c.OURO_UPLOAD_IDLE_TIMEOUT_MS,
      sqlMaxRows: c.OURO_SQL_MAX_ROWS,
    },
  };
}

function parseSqlSources(json: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error("Invalid configuration:\n  OURO_SQL_SOURCES: not valid JSON");
  }
  const parsed = z.record(z.string().regex(/^[\w-]{1,64}$/), z.string().regex(/^postgres(ql)?:\/\/\S+$/)).safeParse(value);
  if (!parsed.success) throw new Error("Invalid configuration:\n  OURO_SQL_SOURCES: must map names to postgres:// URLs");
  return parsed.data;
}

function parseTrustedProxies(value: string): TrustedProxies | null {
  const entries = value.split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) return null;
  try {
    return new TrustedProxies(entries);
  } catch (err) {
    throw new Error(`Invalid configuration:\n  OURO_TRUST_PROXY: ${(err as Error).message}`);
  }
}

function parseAllowedHosts(name: string, value: string): AddressRange[] {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      try {
        return parseAddressRange(entry);
      } catch (err) {
        throw new Error(`Invalid configuration:\n  ${name}: "${entry}" ${(err as Error).message}`);
      }
    });
}

/** Read at start, so a missing or garbled file stops the process instead of failing every https download. */
function readCaFile(file: string | undefined): string[] {
  if (file === undefined) return [];
  const fail = (why: string) => new Error(`Invalid configuration:\n  OURO_INGEST_CA_FILE: ${file} ${why}`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw fail(`cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const certificates = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (certificates.length === 0) throw fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  certificates.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch {
      throw fail(`holds a certificate that cannot be parsed (number ${i + 1})`);
    }
  });
  return certificates;
}

function parseNatsServers(value: string | undefined): string[] {
  const servers = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const s of servers) {
    let ok = false;
    try {
      const u = new URL(s);
      ok = ["nats:", "tls:"].includes(u.protocol) && u.hostname !== "";
    } catch {
      ok = false;
    }
    if (!ok) throw new Error(`Invalid configuration:\n  OURO_NATS_URL: "${s.replace(/\/\/[^@/]*@/, "//…@")}" is not a nats:// or tls:// URL`);
  }
  return servers;
}
