// The whole loop on real data (issue 5, item 9): seattle-weather's early years train a model
// that is deployed; the later years arrive through the endpoint with injected drift; a
// monitor detects it, an alert fires, a pipeline retrains on the logged traffic and its
// labels, the gate passes, a canary starts, labelled traffic decides, the challenger is
// promoted — while clients keep calling the endpoint and never see a failure.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

describe("closed loop: drift → alert → retraining → canary → promotion", () => {
  let t: TestOuro;
  let dir: string;

  async function mutate(query: string, variables: Record<string, unknown>) {
    const r = await t.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ouro-loop-"));
    const [header, ...lines] = (await readFile(path.join(DATA, "seattle-weather.csv"), "utf8")).trim().split("\n");
    await writeFile(path.join(dir, "early.csv"), [header, ...lines.filter((l) => l < "2014")].join("\n") + "\n");
    await writeFile(path.join(dir, "late.csv"), [header, ...lines.filter((l) => l >= "2014")].join("\n") + "\n");
    t = await startTestOuro({
      label: "loop",
      worker: true,
      env: { OURO_INGEST_ROOTS: dir, OURO_JOB_MAX_ATTEMPTS: "1", OURO_MONITOR_SCHEDULER_SECONDS: "1", OURO_PIPELINE_TICK_MS: "200", OURO_ROLLOUT_CHECK_MS: "200" },
    });
  }, 60_000);
  afterAll(() => t?.stop());

  it("runs the lifecycle by itself once it is set up, with zero failed predictions", async () => {
    const projectId = await createProject(t, "weather");
    const ingest = async (file: string) =>
      (await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: file, source: { path: path.join(dir, `${file}.csv`) } } })).id)).result.versionId as string;
    const early = await ingest("early");
    const late = await ingest("late");
    expect((await waitForJob(t, (await mutate(`mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: early })).id)).status).toBe("succeeded");
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "weather inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [{ op: "drop", columns: ["date"] }, { op: "fillNull", columns: ["precipitation", "temp_max", "temp_min", "wind"], strategy: "mean" }],
    });
    expect((await waitForJob(t, (await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: early })).id)).status).toBe("succeeded");

    // The champion: deliberately undertrained, so a retrained challenger has room to win.
    const train = await waitForJob(t, (await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
      i: { projectId, datasetVersionId: early, recipeId: recipe.id, target: "weather", task: "multiclass", model: { kind: "logistic", epochs: 1, learningRate: 0.0001 }, seed: 5 },
    })).id, 120_000);
    expect(train.status, train.error).toBe("succeeded");
    const v1 = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "weather" }) { id } }`, { r: train.result.runId });
    await mutate(`mutation($v: ID!) { setModelAlias(versionId: $v, alias: "production") { alias } }`, { v: v1.id });
    const deployment = await mutate(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name: "weather", modelVersionId: v1.id } });

    const monitor = await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`, { i: { deploymentId: deployment.id, name: "weather drift", kinds: ["data_drift"], window: { predictions: 100 } } });
    await mutate(`mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }`, { i: { monitorId: monitor.id, name: "drift detected", metric: "status", threshold: 2, forWindows: 1 } });
    const pipeline = await mutate(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { pipeline { id } } }`, {
      i: {
        projectId,
        name: "retrain-on-drift",
        triggers: [{ kind: "alert", monitorId: monitor.id }],
        spec: {
          steps: [
            { id: "export", kind: "exportPredictions", params: { deploymentId: deployment.id, outputDataset: "weather-live" } },
            { id: "train", kind: "train", params: { datasetVersionId: "${export.versionId}", recipeId: recipe.id, target: "weather", task: "multiclass", model: { kind: "mlp", layers: [32], epochs: 60 }, seed: 5 } },
            { id: "register", kind: "register", params: { runId: "${train.runId}", model: "weather" } },
            { id: "gate", kind: "gate", params: { metric: "accuracy", modelVersionId: "${register.modelVersionId}", threshold: 0.5 } },
            { id: "canary", kind: "deploy", params: { modelVersionId: "${register.modelVersionId}", name: "weather", canary: { weight: 0.5, minLabels: 40, mode: "auto" } }, after: ["gate"] },
          ],
        },
      },
    });

    // Clients call the endpoint throughout; not one call may fail.
    let stop = false;
    const statuses = new Map<number, number>();
    const lateRow = { date: "2014-06-01", precipitation: 0, temp_max: 22.8, temp_min: 11.1, wind: 3.1 };
    const clients = Array.from({ length: 3 }, async () => {
      while (!stop) {
        let status = -1; // a connection error counts as a failure too
        try {
          const res = await fetch(t.url.replace(/\/graphql$/, "/v1/endpoints/weather/predict"), {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
            body: JSON.stringify(lateRow),
          });
          await res.text();
          status = res.status;
        } catch {
          if (stop) break;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        await sleep(20);
      }
    });
    try {

    // The later years arrive hotter than anything in training, labels a moment later.
    const SIMULATE = `mutation($i: SimulateTrafficInput!) { simulateTraffic(input: $i) { id } }`;
    const drift = { shift: { temp_max: 12, temp_min: 12 } };
    const first = await waitForJob(t, (await mutate(SIMULATE, { i: { deploymentId: deployment.id, datasetVersionId: late, rows: 400, rate: 400, batchSize: 10, labelColumn: "weather", labelDelaySeconds: 0.2, drift } })).id, 120_000);
    expect(first.status, first.error).toBe("succeeded");

    const alert = await until("the drift alert", async () => {
      const r = await t.gql(`query($p: ID!) { alerts(projectId: $p) { nodes { id state monitorId details } } }`, { p: projectId });
      return r.data?.alerts.nodes.find((a: { state: string }) => a.state === "firing");
    });
    expect(alert.monitorId).toBe(monitor.id);
    const run = await until("the retraining run to finish", async () => {
      const r = await t.gql(`query($id: ID!) { pipeline(id: $id) { runs { nodes { id status trigger error steps { kind status outputs } } } } }`, { id: pipeline.pipeline.id });
      const done = r.data?.pipeline.runs.nodes.find((n: { status: string }) => ["succeeded", "failed", "cancelled"].includes(n.status));
      return done;
    }, 180_000);
    expect(run.status, JSON.stringify(run)).toBe("succeeded");
    expect(run.trigger).toMatchObject({ kind: "alert", alertId: alert.id });
    const challenger = run.steps.find((s: { kind: string }) => s.kind === "register").outputs.modelVersionId;
    const canary = (await t.gql(`query($id: ID!) { deployment(id: $id) { routes { name modelVersionIds weight } rollout { status } } }`, { id: deployment.id })).data.deployment;
    expect(canary.rollout.status).toBe("running");
    expect(canary.routes.map((r: { modelVersionIds: string[] }) => r.modelVersionIds[0])).toEqual([v1.id, challenger]);

    // The world stays as it now is; labelled traffic decides the canary.
    const second = await waitForJob(t, (await mutate(SIMULATE, { i: { deploymentId: deployment.id, datasetVersionId: late, rows: 300, rate: 400, batchSize: 10, labelColumn: "weather", labelDelaySeconds: 0.1, drift, seed: 2 } })).id, 120_000);
    expect(second.status, second.error).toBe("succeeded");
    const decided = await until("the canary verdict", async () => {
      const d = (await t.gql(`query($id: ID!) { deployment(id: $id) { routes { modelVersionIds weight } rollout { status verdict { champion challenger better } } } }`, { id: deployment.id })).data.deployment;
      return d.rollout.status !== "running" ? d : null;
    }, 60_000).catch(async (err: Error) => {
      const counts = await t.app.db.query(
        `SELECT l.model_version_id, count(*)::int AS n, count(b.request_id)::int AS labelled FROM prediction_log l LEFT JOIN prediction_labels b USING (deployment_id, request_id) WHERE l.deployment_id = $1 GROUP BY 1`,
        [deployment.id],
      );
      throw new Error(`${err.message}; log: ${JSON.stringify(counts)}; warnings: ${t.logs.filter((l) => /rollout/.test(l)).slice(-5).join(" | ")}`);
    });
    await sleep(300);
    stop = true;
    await Promise.all(clients);

    expect(decided.rollout.verdict.challenger).toBeGreaterThan(decided.rollout.verdict.champion);
    expect(decided.rollout.status).toBe("promoted");
    expect(decided.routes).toEqual([{ modelVersionIds: [challenger], weight: 1 }]);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(20);

    // Every step is in the audit trail, in order, and in the lineage.
    const actions = (await t.app.db.query("SELECT action FROM audit_events WHERE project_id = $1 ORDER BY seq", [projectId])).map((r: { action: string }) => r.action);
    let at = -1;
    for (const step of ["deployment.create", "deployment.simulate", "pipeline.run", "model.register", "deployment.rollout.running", "deployment.rollout.promoted"]) {
      at = actions.indexOf(step, at + 1);
      expect(at, `${step} after the previous step in: ${actions.join(", ")}`).toBeGreaterThan(-1);
    }
    expect(actions.some((a: string) => a.startsWith("alert."))).toBe(true);
    const lineage = (await t.gql(`query($id: ID!) { lineage(id: $id) { nodes { id kind } edges { from to relation } } }`, { id: challenger })).data.lineage;
    const exported = run.steps.find((s: { kind: string }) => s.kind === "exportPredictions").outputs.versionId;
    expect(lineage.edges).toEqual(expect.arrayContaining([{ from: deployment.id, to: exported, relation: "logged" }, { from: challenger, to: deployment.id, relation: "serves" }]));
    } finally {
      stop = true;
      await Promise.all(clients);
    }
  }, 420_000);
});
