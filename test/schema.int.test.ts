import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { DataSource } from "typeorm";
import { describe, expect, it } from "vitest";
import { printOuroSchema } from "../server/src/app/schema";
import { ENTITIES } from "../server/src/entities";
import { SnakeNamingStrategy } from "../server/src/platform/naming";
import { emptyDatabase, freshDatabase, query } from "./helpers/db";

const ROOT = path.resolve(__dirname, "..");

describe("schema", () => {
  it("schema.graphql is up to date (run `npm run schema` after changing the API)", async () => {
    const committed = await readFile(path.join(ROOT, "schema.graphql"), "utf8");
    expect(committed).toBe(await printOuroSchema());
  });

  it("every entity column exists in the migrated database with a matching type and nullability", async () => {
    const url = await freshDatabase("entities");
    const ds = new DataSource({ type: "postgres", url, entities: ENTITIES, namingStrategy: new SnakeNamingStrategy() });
    await ds.initialize();
    try {
      const columns = await query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string }>(
        url,
        "SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
      );
      const actual = new Map(columns.map((c) => [`${c.table_name}.${c.column_name}`, c]));
      const problems: string[] = [];
      for (const meta of ds.entityMetadatas) {
        for (const col of meta.columns) {
          const key = `${meta.tableName}.${col.databaseName}`;
          const found = actual.get(key);
          if (!found) {
            problems.push(`${key} missing`);
            continue;
          }
          const expected = normalise(String(col.type), col.isArray);
          const got = found.data_type === "ARRAY" ? `${found.udt_name.replace(/^_/, "")}[]` : normalise(found.udt_name, false);
          if (expected !== got) problems.push(`${key}: entity ${expected}, table ${got}`);
          if (col.isNullable !== (found.is_nullable === "YES")) problems.push(`${key}: nullability differs`);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await ds.destroy();
    }
  });

  it("two processes migrating one empty database at once apply each migration exactly once", async () => {
    const url = await emptyDatabase("race");
    const run = () =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, "server/bin/ouro.js"), "migrate"], {
          env: { ...process.env, DATABASE_URL: url, OURO_LOG_LEVEL: "warn" },
        });
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (out += d));
        child.on("exit", (code) => resolve({ code, out }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect([a.out, b.out].filter((o) => o.includes("applied 0001")).length).toBe(1);
    const applied = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM ouro_migrations");
    expect(applied[0].n).toBeGreaterThan(0);
    const tables = await query<{ n: number }>(url, "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'metric_points'");
    expect(tables[0].n).toBe(1);
  }, 60_000);
});

const ALIASES: Record<string, string> = {
  "double precision": "float8",
  integer: "int4",
  bigint: "int8",
  boolean: "bool",
  real: "float4",
  increment: "int8",
};

function normalise(type: string, isArray: boolean): string {
  const t = ALIASES[type] ?? type;
  return isArray ? `${t}[]` : t;
}
