import type { Config } from "../../platform/config";
import { sql, type Db } from "../../platform/db";
import type { Logger } from "../../platform/logger";
import type { MonitorConfig, WindowSpec } from "./monitor.config";
import { enqueueEvaluation } from "./monitor.service";
import type { MonitorEntity } from "./monitor.entity";

/** Time windows of one monitor enqueued per tick at most; a monitor further behind skips older windows. */
const MAX_DUE_PER_TICK = 10;

/**
 * Enqueues every due window of every active monitor. Each window's job has an idempotency key
 * derived from the window, so any number of workers may run this at once: the second enqueue
 * of a window returns the first job. There is no leader to elect.
 */
export async function enqueueDueWindows(db: Db, config: Config, now = new Date()): Promise<number> {
  const monitors = await sql<{ id: string; project_id: string; config: MonitorConfig; deployment_id: string; last_end: Date | null; last_seq: string | null }>(
    db,
    `SELECT m.id, m.project_id, m.config, m.deployment_id,
            (SELECT max(window_end) FROM monitor_results r WHERE r.monitor_id = m.id AND r.window_key LIKE 'time:%') AS last_end,
            (SELECT max(last_seq)::text FROM monitor_results r WHERE r.monitor_id = m.id AND r.window_key LIKE 'count:%') AS last_seq
     FROM monitors m WHERE m.status = 'active' AND m.deployment_id IS NOT NULL`,
  );
  let enqueued = 0;
  for (const m of monitors) {
    const due: WindowSpec[] = [];
    const w = m.config.window;
    if (!w) continue;
    if (w.kind === "time") {
      const size = w.minutes * 60_000;
      let start = Math.max(m.last_end ? m.last_end.getTime() : 0, Date.parse(m.config.anchor));
      // Far behind (workers were down): evaluate the latest windows, skip the older ones.
      const behind = Math.floor((now.getTime() - start) / size);
      if (behind > MAX_DUE_PER_TICK) start += (behind - MAX_DUE_PER_TICK) * size;
      while (start + size <= now.getTime() && due.length < MAX_DUE_PER_TICK) {
        due.push({ kind: "time", start: new Date(start).toISOString(), end: new Date(start + size).toISOString() });
        start += size;
      }
    } else {
      // Count windows chain: the next starts after the last one's final prediction.
      const last = BigInt(m.last_seq ?? "0");
      const from = BigInt(m.config.startSeq ?? "0");
      const after = (last > from ? last : from).toString();
      const [{ n }] = await sql<{ n: number }>(
        db,
        "SELECT count(*)::int AS n FROM (SELECT 1 FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' AND seq > $2 LIMIT $3) x",
        [m.deployment_id, after, w.predictions],
      );
      if (n >= w.predictions) due.push({ kind: "count", afterSeq: after, size: w.predictions });
    }
    for (const window of due) {
      const key = window.kind === "time" ? `monitor-window:${m.id}:time:${window.end}` : window.kind === "count" ? `monitor-window:${m.id}:count:${window.afterSeq}` : null;
      const { created } = await db.transaction((tx) =>
        enqueueEvaluation(tx, { id: m.id, projectId: m.project_id } as MonitorEntity, window, { idempotencyKey: key, createdById: null, maxAttempts: config.worker.maxAttempts }),
      );
      if (created) enqueued++;
    }
  }
  return enqueued;
}

/** Runs enqueueDueWindows every OURO_MONITOR_SCHEDULER_SECONDS; returns a stop function. */
export function startMonitorScheduler(db: Db, config: Config, log: Logger): () => void {
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    enqueueDueWindows(db, config)
      .catch((err) => log.warn({ err: (err as Error).message }, "monitor scheduler failed"))
      .finally(() => (running = false));
  };
  const timer = setInterval(tick, config.monitoring.schedulerSeconds * 1000);
  timer.unref?.();
  return () => clearInterval(timer);
}
