import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { generate } from "@graphql-codegen/cli";
import { buildSchema, parse, print, validate, type DocumentNode } from "graphql";
import { afterAll, describe, expect, it } from "vitest";
import { readConfig } from "../../server/src/platform/config";
import { parseWithLimits, validateWithLimits } from "../../server/src/platform/graphql/limits";
import config, { GENERATED_FILE } from "../codegen";
import * as generated from "./generated/graphql";

const sdkDir = path.resolve(__dirname, "..");
const schemaFile = path.resolve(sdkDir, "../schema.graphql");
const operationsDir = path.join(sdkDir, "src/operations");

describe("generated SDK types", () => {
  const temps: string[] = [];
  afterAll(async () => {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });

  it("are up to date with schema.graphql and src/operations (else run `npm run -w client-sdk codegen`)", async () => {
    const tmp = await mkdtemp(path.join(os.tmpdir(), "ouro-codegen-"));
    temps.push(tmp);
    const target = path.join(tmp, GENERATED_FILE);
    const output = config.generates[GENERATED_FILE];
    expect(output, `codegen.ts must generate ${GENERATED_FILE}`).toBeDefined();
    await generate({ ...config, cwd: sdkDir, silent: true, generates: { [target]: output! } }, true);
    const fresh = await readFile(target, "utf8");
    const committed = await readFile(path.join(sdkDir, GENERATED_FILE), "utf8").catch(() => "");
    // A plain boolean first: a diff of a 60 kB file is noise; the hint is what matters.
    expect(fresh === committed, `client-sdk/${GENERATED_FILE} is stale: run \`npm run -w client-sdk codegen\` and commit it`).toBe(true);
  }, 60_000);

  it("every operation document validates against the current schema", async () => {
    const schema = buildSchema(await readFile(schemaFile, "utf8"));
    const files = (await readdir(operationsDir)).filter((f) => f.endsWith(".graphql")).sort();
    expect(files.length).toBeGreaterThan(0);
    const sources = await Promise.all(files.map(async (f) => ({ file: f, body: await readFile(path.join(operationsDir, f), "utf8") })));
    // Fragments live in their own file, so the operations are validated as one document,
    // and each error is reported with the file it comes from.
    const whole = parse(sources.map((s) => s.body).join("\n"));
    const problems = validate(schema, whole).map((e) => e.message);
    expect(problems, "operations that no longer validate (a breaking schema change?)").toEqual([]);
    for (const { file, body } of sources) expect(() => parse(body), file).not.toThrow();
  });

  it("every generated operation passes the server's own parse and validation limits (depth, cost, tokens)", async () => {
    const schema = buildSchema(await readFile(schemaFile, "utf8"));
    const limits = readConfig({ OURO_ENV: "test" }).limits;
    const operations = Object.entries(generated).filter(
      (entry): entry is [string, DocumentNode] =>
        entry[0].endsWith("Document") && (entry[1] as DocumentNode).definitions?.some((d) => d.kind === "OperationDefinition"),
    );
    expect(operations.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    for (const [name, document] of operations) {
      try {
        const errors = validateWithLimits(schema, parseWithLimits(print(document), limits), limits);
        for (const e of errors) failures.push(`${name}: ${e.message}`);
      } catch (err) {
        failures.push(`${name}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
