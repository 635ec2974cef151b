import "reflect-metadata";
import { DataSource, type DataSourceOptions, type EntityManager } from "typeorm";
import { SnakeNamingStrategy } from "./naming";

export type Db = DataSource;
export type Tx = EntityManager;

/**
 * One pool per process, mapping the given entities (the app passes server/src/entities.ts).
 * Schema changes only ever come from migrations/, never synchronize.
 */
export async function openDatabase(url: string, entities: NonNullable<DataSourceOptions["entities"]>, poolSize: number, applicationName: string, connectTimeoutMs = 5000): Promise<Db> {
  const db = new DataSource({
    type: "postgres",
    url,
    entities,
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    logging: false,
    applicationName,
    extra: {
      max: poolSize,
      // With every connection busy, a request fails after this long (503, errors.ts) instead of queueing without end.
      connectionTimeoutMillis: connectTimeoutMs,
      idleTimeoutMillis: 30_000,
      // A runaway query is a bug, not a feature: bound every statement.
      statement_timeout: 60_000,
    },
  });
  await db.initialize();
  return db;
}

/** Runs fn in a transaction holding a transaction-scoped advisory lock on `key`. */
export async function withKeyLock<T>(db: Db, key: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [key]);
    return fn(tx);
  });
}

/**
 * A read on a hot path (an online feature lookup, thousands a second): sent to the pool as a
 * named statement, which each connection prepares once, so PostgreSQL parses and plans it
 * once per connection, and TypeORM's query runner is not involved. Outside transactions only;
 * `name` must be unique to `text`.
 */
export async function preparedRead<T>(db: Db, name: string, text: string, params: unknown[]): Promise<T[]> {
  const pool = (db.driver as unknown as { master: { query: (q: { name: string; text: string; values: unknown[] }) => Promise<{ rows: T[] }> } }).master;
  return (await pool.query({ name, text, values: params })).rows;
}

/**
 * Raw SQL returning rows, whatever the statement. (TypeORM's own `query` returns
 * `[rows, count]` for UPDATE and DELETE, which is easy to misread.)
 */
export async function sql<T = Record<string, unknown>>(via: Db | Tx, text: string, params: unknown[] = []): Promise<T[]> {
  const inTx = "queryRunner" in via && via.queryRunner !== undefined && !(via instanceof DataSource);
  const runner = inTx ? (via as Tx).queryRunner! : (via as Db).createQueryRunner();
  try {
    const res = await runner.query(text, params, true);
    return res.records as T[];
  } finally {
    if (!inTx) await runner.release();
  }
}
