import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOuro, type TestOuro } from "./helpers/ouro";

const ROOT = path.resolve(__dirname, "..");
const PYTHON = path.join(ROOT, ".venv/bin/python");
const DATA = path.join(ROOT, "node_modules/vega-datasets/data");

/**
 * The Python client's pytest suite (client-sdk/python/tests) against a real Ouro with a
 * worker, on its own PostgreSQL database. The virtualenv comes from scripts/python-env.sh
 * (CI runs it before the tests).
 */
describe("Python client (pytest against a real server)", () => {
  let t: TestOuro;
  beforeAll(async () => {
    t = await startTestOuro({
      label: "python-client",
      worker: true,
      env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1" },
    });
  });
  afterAll(() => t?.stop());

  it("passes its pytest suite", async () => {
    if (!existsSync(PYTHON)) {
      throw new Error(`${PYTHON} is missing: run scripts/python-env.sh to create the virtualenv with the Python client and pytest`);
    }
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(PYTHON, ["-m", "pytest", "client-sdk/python/tests", "-q", "-p", "no:cacheprovider"], {
        cwd: ROOT,
        env: {
          ...process.env,
          OURO_URL: t.url,
          OURO_TOKEN: t.adminToken,
          OURO_TEST_DATA: DATA,
          OURO_PROGRESS: "0",
          PYTHONDONTWRITEBYTECODE: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (out += d.toString()));
      child.on("close", (c) => resolve({ code: c, output: out }));
    });
    // On failure the assertion message carries pytest's whole report.
    expect(code, `pytest exited with ${code}:\n${output}`).toBe(0);
    expect(output).toMatch(/\d+ passed/);
    expect(output).not.toMatch(/\d+ (failed|error)/);
  }, 600_000);
});
