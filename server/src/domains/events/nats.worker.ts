import { randomBytes } from "node:crypto";
import os from "node:os";
import pg from "pg";
import type { AppServices } from "../../platform/graphql/context";
import { StreamConsumer } from "./nats.consumer";
import { EventStreamEntity } from "./nats.entity";
import { EVENT_STREAMS_TOPIC } from "./nats.service";

/** How often a worker looks for attached streams nobody consumes (attaches also wake it over the bus). */
const CHECK_MS = 1000;
const lockKey = (featureSetId: string) => `ouro.event_stream:${featureSetId}`;

interface Running {
  rowId: string;
  consumer: StreamConsumer;
}

/**
 * Runs in every worker with OURO_NATS_URL: each attached stream gets exactly one consumer
 * across all workers. A worker takes a source by winning its session-level advisory lock on a
 * connection of its own, and keeps it while that connection lives — a worker that dies lets
 * go of its sources with its connection, and another worker takes them over at its next check,
 * resuming from the durable consumer.
 *
 * Why the worker and not the server: consuming is background work with no request to answer,
 * like jobs; servers scale with HTTP traffic, workers with work.
 */
export function startEventStreams(app: AppServices & { databaseUrl: string }): { stop(): Promise<void> } {
  const servers = app.config.nats.servers;
  if (servers.length === 0) return { stop: async () => undefined };
  const host = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const running = new Map<string, Running>();
  let locks: pg.Client | null = null;
  let stopped = false;
  let checking: Promise<void> | null = null;
  let again = false;

  const lockConnection = async (): Promise<pg.Client> => {
    if (locks) return locks;
    const client = new pg.Client({ connectionString: app.databaseUrl, application_name: "ouro-event-streams" });
    client.on("error", (err) => app.log.warn({ err: err.message }, "event stream lock connection error"));
    client.on("end", () => {
      if (locks !== client) return;
      locks = null;
      // The locks went with the connection: stop every consumer before anyone else takes over.
      for (const [featureSetId, r] of running) {
        running.delete(featureSetId);
        void r.consumer.stop();
      }
    });
    await client.connect();
    locks = client;
    return client;
  };

  const check = async () => {
    const rows = await app.db.getRepository(EventStreamEntity).find();
    const attached = new Map(rows.map((r) => [r.featureSetId, r]));
    const client = await lockConnection();
    for (const [featureSetId, r] of running) {
      const row = attached.get(featureSetId);
      if (row && row.id === r.rowId) continue;
      running.delete(featureSetId);
      await r.consumer.stop();
      await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lockKey(featureSetId)]);
    }
    for (const row of rows) {
      if (stopped || running.has(row.featureSetId)) continue;
      const [got] = (await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [lockKey(row.featureSetId)])).rows;
      if (!got.ok) continue;
      app.log.info({ featureSetId: row.featureSetId, stream: row.streamName, durable: row.durableName }, "consuming event stream");
      running.set(row.featureSetId, { rowId: row.id, consumer: new StreamConsumer(app, row, servers, host) });
    }
  };

  // One check at a time; a wake-up during a check runs another right after it.
  const tick = () => {
    if (stopped) return;
    if (checking) {
      again = true;
      return;
    }
    checking = check()
      .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, "event stream check failed"))
      .finally(() => {
        checking = null;
        if (again) {
          again = false;
          tick();
        }
      });
  };
  const timer = setInterval(tick, CHECK_MS);
  const unsubscribe = app.bus.subscribe(EVENT_STREAMS_TOPIC, tick);
  tick();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      await checking;
      await Promise.all([...running.values()].map((r) => r.consumer.stop()));
      running.clear();
      const client = locks;
      locks = null;
      await client?.end().catch(() => undefined);
    },
  };
}
