import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import { Logger as QueueLogger, runMigrations as runQueueMigrations } from "graphile-worker";
import type { Logger } from "./logger";

export const MIGRATIONS_DIR = path.resolve(__dirname, "../../../migrations");

// Any fixed 64-bit number works; every Ouro process migrating one database takes this lock,
// so two `ouro migrate` runs at once apply each migration exactly once.
const MIGRATION_LOCK = 7_262_001_337;

/**
 * Applies the SQL files of migrations/ in name order, each in its own transaction, then the
 * job queue's own schema. Safe to run from many processes at once.
 */
export async function migrate(databaseUrl: string, log: Logger): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS ouro_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>("SELECT name FROM ouro_migrations")).rows.map((r) => r.name));
    const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), "utf8");
      await client.query("BEGIN");
      try {
        await client.query(sql);
        await client.query("INSERT INTO ouro_migrations (name) VALUES ($1)", [file]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
      log.info({ migration: file }, "migration applied");
    }
    // A pool of ours, ended and waited for: the queue's own would close without waiting.
    const queuePool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    queuePool.on("error", () => undefined);
    queuePool.on("connect", (c) => c.on("error", () => undefined));
    try {
      await runQueueMigrations({ pgPool: queuePool, logger: silentQueueLogger });
    } finally {
      await queuePool.end();
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
  return applied;
}

// graphile-worker logs each of its migrations at info; ours already says what happened.
const silentQueueLogger = new QueueLogger(() => () => undefined);
