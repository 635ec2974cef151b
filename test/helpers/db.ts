import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { withDatabase } from "./global-setup";

/** A migrated database of its own for one test file. */
export async function freshDatabase(label = "t"): Promise<string> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `ouro_${label.replace(/\W/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ouro_template`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

/** An empty database (no migrations), for tests of migrating itself. */
export async function emptyDatabase(label = "empty"): Promise<string> {
  const adminUrl = inject("adminDatabaseUrl");
  const name = `ouro_${label}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return withDatabase(adminUrl, name);
}

export async function query<T = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}
