import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus figures for one process, served at /metrics. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "ouro_" });
  return {
    registry,
    httpRequests: new Counter({ name: "ouro_http_requests_total", help: "HTTP requests", labelNames: ["route", "status"], registers: [registry] }),
    httpDuration: new Histogram({
      name: "ouro_http_request_duration_seconds",
      help: "HTTP request duration",
      labelNames: ["route"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    graphqlOperations: new Counter({ name: "ouro_graphql_operations_total", help: "GraphQL operations", labelNames: ["type", "outcome"], registers: [registry] }),
    wsConnections: new Gauge({ name: "ouro_ws_connections", help: "Open WebSocket connections", registers: [registry] }),
    subscriptions: new Gauge({ name: "ouro_subscriptions_active", help: "Active subscriptions", registers: [registry] }),
    jobsStarted: new Counter({ name: "ouro_jobs_started_total", help: "Job tries started", labelNames: ["kind"], registers: [registry] }),
    jobsFinished: new Counter({ name: "ouro_jobs_finished_total", help: "Job tries ended", labelNames: ["kind", "outcome"], registers: [registry] }),
    jobQueueLatency: new Histogram({
      name: "ouro_job_queue_latency_seconds",
      help: "From when a job could run to when a worker started it",
      labelNames: ["kind"],
      buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: "ouro_job_duration_seconds",
      help: "Job try duration",
      labelNames: ["kind", "outcome"],
      buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges read from the database when scraped, so every process reports the shared queue. */
export function addQueueGauges(metrics: Metrics, read: () => Promise<{ queued: number; running: number; workers: number }>): void {
  let last = { queued: 0, running: 0, workers: 0 };
  const refresh = async () => {
    last = await read().catch(() => last);
  };
  new Gauge({ name: "ouro_jobs_queued", help: "Jobs waiting to run", registers: [metrics.registry], async collect() { await refresh(); this.set(last.queued); } });
  new Gauge({ name: "ouro_jobs_running", help: "Jobs running", registers: [metrics.registry], collect() { this.set(last.running); } });
  new Gauge({ name: "ouro_workers_alive", help: "Worker processes with a fresh heartbeat", registers: [metrics.registry], collect() { this.set(last.workers); } });
}
