// examples/lifecycle.ipynb, executed cell by cell (nbclient's jupyter-execute, an ipykernel
// from .venv) against a real Ouro: the notebook users read is a notebook that works.
import { spawn } from "node:child_process";
import { access, mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOuro, type TestOuro } from "./helpers/ouro";

const ROOT = path.resolve(__dirname, "..");
const EXECUTE = path.join(ROOT, ".venv/bin/jupyter-execute");

describe("the lifecycle notebook", () => {
  let t: TestOuro;
  beforeAll(async () => {
    await access(EXECUTE).catch(() => {
      throw new Error(`${EXECUTE} is missing: run scripts/python-env.sh (npm test does)`);
    });
    t = await startTestOuro({ label: "notebook", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1", OURO_ROLLOUT_CHECK_MS: "500" } });
  }, 60_000);
  afterAll(() => t?.stop());

  it("runs from the first cell to the last: penguins, then the weather loop to a promotion", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "ouro-notebook-"));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(EXECUTE, ["--timeout=300", `--output=${path.join(out, "executed")}`, path.join(ROOT, "examples/lifecycle.ipynb")], {
        cwd: path.join(ROOT, "examples"),
        env: { ...process.env, OURO_URL: t.url.replace(/\/graphql$/, ""), OURO_TOKEN: t.adminToken, OURO_PROGRESS: "0", PATH: `${path.join(ROOT, ".venv/bin")}:${process.env.PATH}` },
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      child.on("exit", (c) => resolve({ code: c, output }));
    });
    expect(code, output.slice(-6000)).toBe(0);
    // The loop ended in a promotion, and the audit trail says so.
    const [row] = await t.app.db.query(`SELECT traffic->'rollout'->>'status' AS status FROM deployments WHERE name = 'weather'`);
    expect(row.status).toBe("promoted");
  }, 420_000);
});
