import { rm } from "node:fs/promises";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../server/src/platform/embedded-postgres";
import { createLogger } from "../../server/src/platform/logger";
import { migrate } from "../../server/src/platform/migrate";

/**
 * One PostgreSQL for the whole test run: DATABASE_URL when given (any PostgreSQL ≥ 14),
 * else an embedded one in .ouro-test/. Migrations run once into a template database; each
 * test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 */
export default async function setup(project: TestProject) {
  const log = createLogger("warn", "ouro-test");
  let adminUrl: string;
  let stop = async () => undefined as void;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    // A cluster of this run's own: test runs side by side must not share a data directory.
    const dir = path.resolve(".ouro-test", `run-${process.pid}`);
    await rm(dir, { recursive: true, force: true });
    const port = 55000 + Math.floor(Math.random() * 5000);
    const embedded = await startEmbeddedPostgres(dir, port, log);
    adminUrl = embedded.url;
    stop = async () => {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const templateUrl = withDatabase(adminUrl, "ouro_template");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query("DROP DATABASE IF EXISTS ouro_template");
  await admin.query("CREATE DATABASE ouro_template");
  await admin.end();
  await migrate(templateUrl, log);
  project.provide("adminDatabaseUrl", adminUrl);
  return async () => {
    await stop();
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

declare module "vitest" {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
  }
}
