import { copyFile, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueDueCronRuns, startPipelineLoop } from "../server/src/domains/pipelines/pipeline.tasks";
import { signDelivery } from "../server/src/domains/pipelines/pipeline.secret";
import { triggerPipelinesOnAlert } from "../server/src/domains/pipelines/pipeline.service";
import { createProject, newUserToken, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

const RUN_FIELDS = `id status error trigger params cursor steps { stepId kind status cacheHit error jobId inputs outputs }`;

describe("pipelines", () => {
  let t: TestOuro;
  let projectId: string;
  let roots: string;
  let recipeId: string;
  let penguinsPipelineId: string;
  /** A cheap step to drive trigger tests: fitting a recipe on a version. */
  let penguinsVersionId: string;

  async function mutate(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const CREATE = `mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { webhookSecret pipeline { id name webhookPath triggers } } }`;
  const RUN = `mutation($p: ID!, $params: JSONObject, $force: Boolean) { runPipeline(pipelineId: $p, params: $params, force: $force) { ${RUN_FIELDS} } }`;

  async function runOf(id: string) {
    return (await t.gql(`query($id: ID!) { pipelineRun(id: $id) { ${RUN_FIELDS} } }`, { id })).data.pipelineRun;
  }
  async function finished(id: string, timeoutMs = 150_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await runOf(id);
      if (["succeeded", "failed", "cancelled"].includes(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`pipeline run ${id} still ${run.status}: ${JSON.stringify(run.steps)}`);
      await sleep(150);
    }
  }
  const stepOf = (run: any, id: string) => run.steps.find((s: { stepId: string }) => s.stepId === id);
  const fitOnly = (versionId = "${params.datasetVersionId}") => ({ steps: [{ id: "fit", kind: "fitRecipe", params: { recipeId, versionId } }] });

  beforeAll(async () => {
    roots = await mkdtemp(path.join(os.tmpdir(), "ouro-pipelines-"));
    await copyFile(path.join(DATA, "penguins.json"), path.join(roots, "penguins.json"));
    await copyFile(path.join(DATA, "seattle-weather.csv"), path.join(roots, "seattle-weather.csv"));
    t = await startTestOuro({ label: "pipelines", worker: true, env: { OURO_INGEST_ROOTS: roots, OURO_JOB_MAX_ATTEMPTS: "1", OURO_PIPELINE_TICK_MS: "200" } });
    projectId = await createProject(t, "pipelines");
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    recipeId = recipe.id;
  }, 120_000);
  afterAll(() => t?.stop());

  it("runs ingest → fit → apply → train → evaluate → register → gate, streams its progress, and reuses unchanged steps", async () => {
    const spec = {
      params: { source: path.join(roots, "penguins.json") },
      steps: [
        { id: "ingest", kind: "ingest", params: { dataset: "penguins", path: "${params.source}" } },
        { id: "fit", kind: "fitRecipe", params: { recipeId, versionId: "${ingest.versionId}" } },
        { id: "apply", kind: "applyRecipe", params: { recipeId: "${fit.recipeId}", versionId: "${ingest.versionId}", outputDataset: "penguins-prepared" } },
        { id: "train", kind: "train", params: { datasetVersionId: "${apply.versionId}", target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16], epochs: 25 }, seed: 7 } },
        { id: "evaluate", kind: "evaluate", params: { runId: "${train.runId}", datasetVersionId: "${apply.versionId}" } },
        { id: "register", kind: "register", params: { runId: "${train.runId}", model: "penguin-species" }, after: ["evaluate"] },
        // The registered version must beat production by 0.01 accuracy (passes while nothing is in production).
        { id: "gate", kind: "gate", params: { metric: "accuracy", modelVersionId: "${register.modelVersionId}", baseline: { model: "penguin-species", alias: "production" }, margin: 0.01 } },
        { id: "deploy", kind: "deploy", params: { modelVersionId: "${register.modelVersionId}", name: "penguins" }, after: ["gate"] },
      ],
    };
    const created = await mutate(CREATE, { i: { projectId, name: "penguins", spec } });
    penguinsPipelineId = created.pipeline.id;
    expect(created.pipeline.webhookPath).toBe(`/v1/pipelines/${penguinsPipelineId}/webhook`);
    expect(created.pipeline.triggers).toEqual([{ kind: "manual" }]);

    const first = await mutate(RUN, { p: penguinsPipelineId });
    expect(first.trigger.kind).toBe("manual");
    const client = t.ws();
    const live = take<any>(client, `subscription($r: ID!) { pipelineRunUpdated(pipelineRunId: $r) { status cursor steps { stepId status } } }`, { r: first.id }, 1000, 150_000);
    const run1 = await finished(first.id);
    expect(run1.status, JSON.stringify(run1)).toBe("succeeded");
    const events = (await live).events.map((e) => e.pipelineRunUpdated);
    await client.dispose();
    // The stream ends with the final state, and its cursors only grow.
    expect(events.at(-1).status).toBe("succeeded");
    const cursors = events.map((e: { cursor: string }) => Number(e.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);

    expect(run1.steps.map((s: { stepId: string; status: string; cacheHit: boolean }) => [s.stepId, s.status, s.cacheHit])).toEqual([
      ["ingest", "succeeded", false],
      ["fit", "succeeded", false],
      ["apply", "succeeded", false],
      ["train", "succeeded", false],
      ["evaluate", "succeeded", false],
      ["register", "succeeded", false],
      ["gate", "succeeded", false],
      ["deploy", "succeeded", false],
    ]);
    penguinsVersionId = stepOf(run1, "ingest").outputs.versionId;
    const applied = stepOf(run1, "apply").outputs.versionId;
    expect(stepOf(run1, "train").inputs.datasetVersionId).toBe(applied);
    const runId = stepOf(run1, "train").outputs.runId;
    expect(stepOf(run1, "evaluate").outputs.metrics.accuracy).toBeGreaterThan(0.8);
    const registered = stepOf(run1, "register").outputs;
    expect(stepOf(run1, "gate").outputs).toMatchObject({ passed: true, baseline: null });
    const mv = (await t.gql(`query($id: ID!) { modelVersion(id: $id) { version runId } }`, { id: registered.modelVersionId })).data.modelVersion;
    expect(mv).toEqual({ version: 1, runId });
    const [deployment] = await t.app.db.query("SELECT id, traffic FROM deployments WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    expect(stepOf(run1, "deploy").outputs.deploymentId).toBe(deployment.id);
    expect(deployment.traffic.routes[0].modelVersionIds).toEqual([registered.modelVersionId]);

    // Lineage from the pipeline run reaches what its steps made, and what those came from.
    const lineage = (await t.gql(`query($id: ID!) { lineage(id: $id) { nodes { id kind } edges { from to relation } } }`, { id: first.id })).data.lineage;
    expect(lineage.edges).toEqual(
      expect.arrayContaining([
        { from: first.id, to: penguinsVersionId, relation: "produced" },
        { from: first.id, to: applied, relation: "produced" },
        { from: first.id, to: runId, relation: "produced" },
        { from: first.id, to: registered.modelVersionId, relation: "produced" },
        { from: applied, to: runId, relation: "trainedOn" },
        { from: runId, to: registered.modelVersionId, relation: "registered" },
      ]),
    );
    expect(lineage.nodes).toContainEqual({ id: first.id, kind: "pipelineRun" });

    // Resuming after a cursor from the middle replays only what came later.
    const resumed = await take<any>(t.ws(), `subscription($r: ID!, $a: Cursor) { pipelineRunUpdated(pipelineRunId: $r, after: $a) { cursor status } }`, { r: first.id, a: String(cursors[0]) }, 10, 5_000);
    expect(resumed.events.map((e) => Number(e.pipelineRunUpdated.cursor)).every((c) => c > cursors[0])).toBe(true);
    expect(resumed.events.at(-1).pipelineRunUpdated.status).toBe("succeeded");

    // Put v1 in production: a re-run changes nothing upstream, so everything but ingest and
    // the gate comes from the cache — and the same model cannot beat itself by 0.01.
    await mutate(`mutation($v: ID!) { setModelAlias(versionId: $v, alias: "production") { alias } }`, { v: registered.modelVersionId });
    const [{ n: runsBefore }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    const run2 = await finished((await mutate(RUN, { p: penguinsPipelineId })).id);
    expect(run2.status).toBe("failed");
    expect(run2.steps.map((s: { stepId: string; status: string; cacheHit: boolean }) => [s.stepId, s.status, s.cacheHit])).toEqual([
      ["ingest", "succeeded", false],
      ["fit", "succeeded", true],
      ["apply", "succeeded", true],
      ["train", "succeeded", true],
      ["evaluate", "succeeded", true],
      ["register", "succeeded", true],
      ["gate", "failed", false],
      ["deploy", "skipped", false],
    ]);
    expect(stepOf(run2, "ingest").outputs.versionId).toBe(penguinsVersionId); // identical content is the same version
    expect(stepOf(run2, "train").outputs.runId).toBe(runId);
    expect(run2.error).toMatch(/step gate \(gate\) failed: gate not met: accuracy .* is not >= penguin-species v1 \(production\) .* \+ 0\.01/);
    const [{ n: runsAfter }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    expect(runsAfter).toBe(runsBefore);
    const [{ n: versions }] = await t.app.db.query("SELECT count(*)::int AS n FROM model_versions");
    expect(versions).toBe(1);
    const [{ revision }] = await t.app.db.query("SELECT revision FROM deployments WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    expect(revision).toBe(1); // the failed gate kept the deployment as it was

    const listed = (await t.gql(`query($p: ID!) { pipelines(projectId: $p) { nodes { name runs { totalCount nodes { status } } } } }`, { p: projectId })).data.pipelines.nodes;
    expect(listed).toEqual([{ name: "penguins", runs: { totalCount: 2, nodes: [{ status: "failed" }, { status: "succeeded" }] } }]);
  }, 240_000);

  it("re-runs cached steps when forced", async () => {
    const p = await mutate(CREATE, { i: { projectId, name: "fit-only", spec: fitOnly(penguinsVersionId) } });
    const a = await finished((await mutate(RUN, { p: p.pipeline.id })).id);
    const b = await finished((await mutate(RUN, { p: p.pipeline.id })).id);
    const c = await finished((await mutate(RUN, { p: p.pipeline.id, force: true })).id);
    expect([a, b, c].map((r) => [r.status, r.steps[0].cacheHit])).toEqual([
      ["succeeded", true], // the penguins pipeline fitted the same recipe on the same version already
      ["succeeded", true],
      ["succeeded", false],
    ]);
    expect(c.steps[0].jobId).not.toBeNull();
    expect(b.steps[0].jobId).toBeNull();
  }, 60_000);

  it("refuses invalid pipelines with the path of the problem, and stores nothing", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM pipelines");
    const cases: [unknown, unknown, string, RegExp][] = [
      [{ steps: [{ id: "a", kind: "fitRecipe", params: { recipeId: "${b.recipeId}", versionId: "v" } }, { id: "b", kind: "fitRecipe", params: { recipeId: "${a.recipeId}", versionId: "v" } }] }, null, "spec.steps", /form a cycle/],
      [{ steps: [{ id: "a", kind: "deploy-to-mars", params: {} }] }, null, "spec.steps[0].kind", /unknown step kind/],
      [{ steps: [{ id: "t", kind: "train", params: { datasetVersionId: "${nowhere.versionId}", target: "y", task: "binary" } }] }, null, "spec.steps[0].params.datasetVersionId", /unknown step "nowhere"/],
      [{ steps: [{ id: "t", kind: "train", params: { target: "y", task: "binary" } }] }, null, "spec.steps[0].params.datasetVersionId", /required/],
      [{ steps: [{ id: "g", kind: "gate", params: { metric: "happiness", metrics: {}, threshold: 1 } }] }, null, "spec.steps[0].params.metric", /unknown metric/],
      [fitOnly("x"), [{ kind: "cron", schedule: "61 * * * *" }], "triggers[0].schedule", /minute: 61/],
      [fitOnly("x"), [{ kind: "datasetVersion", datasetId: "00000000-0000-0000-0000-000000000000" }], "triggers[0].datasetId", /not found in this project/],
      [fitOnly("x"), [{ kind: "telepathy" }], "triggers[0].kind", /one of manual/],
    ];
    for (const [spec, triggers, pathOfError, message] of cases) {
      const r = await t.gql(CREATE, { i: { projectId, name: "bad", spec, triggers } });
      expect(r.errors?.[0].extensions?.code, JSON.stringify(spec)).toBe("BAD_USER_INPUT");
      expect((r.errors?.[0].extensions?.details as { path: string }).path).toBe(pathOfError);
      expect(r.errors?.[0].message).toMatch(message);
    }
    // A trigger on a dataset the pipeline itself writes would start it forever.
    const [{ id: penguinsDataset }] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    const loop = await t.gql(CREATE, {
      i: { projectId, name: "loop", spec: { steps: [{ id: "ingest", kind: "ingest", params: { dataset: "penguins", path: "x" } }] }, triggers: [{ kind: "datasetVersion", datasetId: penguinsDataset }] },
    });
    expect(loop.errors?.[0].message).toMatch(/again and again/);
    const dup = await t.gql(CREATE, { i: { projectId, name: "penguins", spec: fitOnly("x") } });
    expect(dup.errors?.[0].extensions?.code).toBe("CONFLICT");
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM pipelines");
    expect(after).toBe(before);
  });

  it("updates a pipeline only with a valid definition", async () => {
    const p = await mutate(CREATE, { i: { projectId, name: "editable", spec: fitOnly("x") } });
    const UPDATE = `mutation($i: UpdatePipelineInput!) { updatePipeline(input: $i) { name spec triggers } }`;
    const bad = await t.gql(UPDATE, { i: { id: p.pipeline.id, name: "renamed", spec: { steps: [{ id: "a", kind: "fitRecipe", params: { recipeId: "${a.recipeId}", versionId: "v" } }] } } });
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(bad.errors?.[0].message).toMatch(/depends on itself/);
    const unchanged = (await t.gql(`query($id: ID!) { pipeline(id: $id) { name spec } }`, { id: p.pipeline.id })).data.pipeline;
    expect(unchanged).toEqual({ name: "editable", spec: { params: {}, ...fitOnly("x") } });
    const updated = await mutate(UPDATE, { i: { id: p.pipeline.id, name: "edited", triggers: [{ kind: "cron", schedule: "*/10 * * * *" }] } });
    expect(updated).toEqual({ name: "edited", spec: { params: {}, ...fitOnly("x") }, triggers: [{ kind: "cron", schedule: "*/10 * * * *" }] });
    const taken = await t.gql(UPDATE, { i: { id: p.pipeline.id, name: "penguins" } });
    expect(taken.errors?.[0].extensions?.code).toBe("CONFLICT");
    // Back to manual only, so the schedule does not fire during the other tests.
    await mutate(UPDATE, { i: { id: p.pipeline.id, triggers: [{ kind: "manual" }] } });
  });

  it("fails a step cleanly when its inputs are wrong at run time, without leaving work behind", async () => {
    const p = await mutate(CREATE, {
      i: { projectId, name: "bad-target", spec: { steps: [{ id: "train", kind: "train", params: { datasetVersionId: penguinsVersionId, target: "Wingspan", task: "multiclass" } }] } },
    });
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    const run = await finished((await mutate(RUN, { p: p.pipeline.id })).id);
    expect(run.status).toBe("failed");
    expect(run.steps[0]).toMatchObject({ status: "failed", jobId: null });
    expect(run.steps[0].error).toMatch(/target column Wingspan not found/);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    expect(after).toBe(before);
    // A missing run param fails the same way.
    const q = await mutate(CREATE, { i: { projectId, name: "needs-param", spec: fitOnly() } });
    const noParam = await finished((await mutate(RUN, { p: q.pipeline.id })).id);
    expect(noParam.steps[0].error).toMatch(/\$\{params.datasetVersionId\} has no value/);
  }, 60_000);

  it("starts a run for each new version of a watched dataset", async () => {
    const ingest = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins-feed", source: { path: path.join(roots, "penguins.json") } } })).id);
    const [{ id: datasetId }] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'penguins-feed'", [projectId]);
    expect(ingest.result.version).toBe(1);
    const p = await mutate(CREATE, { i: { projectId, name: "on-new-data", spec: fitOnly(), triggers: [{ kind: "datasetVersion", datasetId }] } });
    // Version 2: the same penguins minus the last ten rows.
    const rows = JSON.parse(await readFile(path.join(roots, "penguins.json"), "utf8"));
    await writeFile(path.join(roots, "penguins-v2.json"), JSON.stringify(rows.slice(0, -10)));
    const v2 = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins-feed", source: { path: path.join(roots, "penguins-v2.json") } } })).id);
    expect(v2.status).toBe("succeeded");
    let runs: any[] = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      runs = (await t.gql(`query($id: ID!) { pipeline(id: $id) { runs { nodes { id trigger params } } } }`, { id: p.pipeline.id })).data.pipeline.runs.nodes;
      await sleep(100);
    }
    expect(runs).toHaveLength(1);
    expect(runs[0].trigger).toEqual({ kind: "datasetVersion", datasetId, versionId: v2.result.versionId });
    const run = await finished(runs[0].id);
    expect(run.status, run.error).toBe("succeeded");
    expect(run.steps[0].inputs.versionId).toBe(v2.result.versionId);
    const audit = await t.app.db.query("SELECT actor_id, data FROM audit_events WHERE action = 'pipeline.run' AND target_id = $1", [runs[0].id]);
    expect(audit).toEqual([{ actor_id: null, data: expect.objectContaining({ trigger: runs[0].trigger }) }]);
  }, 90_000);

  it("starts runs from signed webhooks only, once per delivery", async () => {
    const p = await mutate(CREATE, { i: { projectId, name: "hooked", spec: fitOnly(), triggers: [{ kind: "webhook" }] } });
    const url = `${t.url.replace(/\/graphql$/, "")}${p.pipeline.webhookPath}`;
    const post = (body: string, headers: Record<string, string>) => fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    const signed = (secret: string, body: string, ts = Math.floor(Date.now() / 1000)) => ({ "x-ouro-timestamp": String(ts), "x-ouro-signature": signDelivery(secret, String(ts), body) });
    const body = JSON.stringify({ params: { datasetVersionId: penguinsVersionId } });

    const good = signed(p.webhookSecret, body);
    const ok = await post(body, good);
    expect(ok.status).toBe(202);
    const accepted = (await ok.json()) as { pipelineRunId: string; duplicate: boolean };
    expect(accepted.duplicate).toBe(false);
    // Replays, several at once while the first run is being advanced: one run, never an error.
    const replays = await Promise.all(Array.from({ length: 5 }, () => post(body, good)));
    expect(replays.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    for (const r of replays) expect(await r.json()).toMatchObject({ pipelineRunId: accepted.pipelineRunId, duplicate: true });

    const refused: [string, Record<string, string>, RegExp][] = [
      ["no signature", {}, /signed deliveries only/],
      ["wrong secret", signed("whsec_not-the-secret", body), /does not match/],
      ["body changed after signing", { ...good }, /does not match/],
      ["ten minutes old", signed(p.webhookSecret, body, Math.floor(Date.now() / 1000) - 600), /more than 300 seconds/],
      ["from the future", signed(p.webhookSecret, body, Math.floor(Date.now() / 1000) + 600), /more than 300 seconds/],
    ];
    for (const [what, headers, message] of refused) {
      const r = await post(what === "body changed after signing" ? body.replace(penguinsVersionId, "00000000-0000-0000-0000-000000000000") : body, headers);
      expect(r.status, what).toBe(401);
      expect(((await r.json()) as { errors: { message: string }[] }).errors[0].message, what).toMatch(message);
    }
    // A pipeline without a webhook trigger has no webhook.
    const noHook = await fetch(`${t.url.replace(/\/graphql$/, "")}/v1/pipelines/${penguinsPipelineId}/webhook`, { method: "POST", headers: good, body });
    expect(noHook.status).toBe(404);
    // Rotating: the old secret stops working, the new one works.
    const rotated = await mutate(`mutation($id: ID!) { rotatePipelineWebhookSecret(id: $id) }`, { id: p.pipeline.id });
    expect(rotated).not.toBe(p.webhookSecret);
    const body2 = JSON.stringify({ params: { datasetVersionId: penguinsVersionId, note: "second" } });
    expect((await post(body2, signed(p.webhookSecret, body2))).status).toBe(401);
    expect((await post(body2, signed(rotated, body2))).status).toBe(202);

    const runs = await t.app.db.query("SELECT id, trigger FROM pipeline_runs WHERE pipeline_id = $1", [p.pipeline.id]);
    expect(runs).toHaveLength(2);
    expect(runs.every((r: { trigger: { kind: string } }) => r.trigger.kind === "webhook")).toBe(true);
    const hooked = await finished(accepted.pipelineRunId);
    expect(hooked.status, JSON.stringify(hooked)).toBe("succeeded");
    // Nothing secret is stored: only a salt.
    const [row] = await t.app.db.query("SELECT webhook_secret_salt FROM pipelines WHERE id = $1", [p.pipeline.id]);
    expect(row.webhook_secret_salt).not.toContain(rotated.slice(6));
  }, 60_000);

  it("starts cron runs once per scheduled minute however many workers look", async () => {
    const p = await mutate(CREATE, { i: { projectId, name: "nightly", spec: fitOnly(penguinsVersionId), triggers: [{ kind: "cron", schedule: "0-5 0 1 1 *" }] } });
    // As if defined at the start of 2026 and checked at 00:03:30 on January 1st: minutes 1, 2 and 3 are due.
    await t.app.db.query("UPDATE pipelines SET updated_at = '2026-01-01T00:00:00Z' WHERE id = $1", [p.pipeline.id]);
    const now = new Date("2026-01-01T00:03:30Z");
    const counts = await Promise.all([enqueueDueCronRuns(t.app.db, now), enqueueDueCronRuns(t.app.db, now), enqueueDueCronRuns(t.app.db, now)]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3);
    const runs = await t.app.db.query("SELECT trigger FROM pipeline_runs WHERE pipeline_id = $1 ORDER BY trigger->>'scheduledFor'", [p.pipeline.id]);
    expect(runs.map((r: { trigger: { scheduledFor: string } }) => r.trigger.scheduledFor)).toEqual(["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z", "2026-01-01T00:03:00.000Z"]);
  });

  it("starts runs on an alert, once per alert", async () => {
    const p = await mutate(CREATE, { i: { projectId, name: "retrain-on-alert", spec: fitOnly(penguinsVersionId), triggers: [{ kind: "alert" }] } });
    const alertId = "11111111-1111-4111-8111-111111111111";
    // Following the whole pipeline: its runs arrive as they are created and change.
    const client = t.ws();
    const live = take<any>(client, `subscription($p: ID!) { pipelineRunUpdated(pipelineId: $p) { id status trigger cursor } }`, { p: p.pipeline.id }, 1, 15_000);
    await sleep(300);
    await triggerPipelinesOnAlert(t.app.db, { alertId, projectId, monitorId: null });
    await triggerPipelinesOnAlert(t.app.db, { alertId, projectId, monitorId: null });
    const runs = await t.app.db.query("SELECT trigger, params FROM pipeline_runs WHERE pipeline_id = $1", [p.pipeline.id]);
    expect(runs).toEqual([{ trigger: { kind: "alert", alertId, monitorId: null }, params: { alertId, monitorId: null } }]);
    const { events } = await live;
    await client.dispose();
    expect(events[0]?.pipelineRunUpdated.trigger).toEqual({ kind: "alert", alertId, monitorId: null });
  });

  it("runs a search step (successive halving) and registers its best trial", async () => {
    const p = await mutate(CREATE, {
      i: {
        projectId,
        name: "searched",
        spec: {
          steps: [
            {
              id: "search",
              kind: "search",
              params: {
                datasetVersionId: penguinsVersionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [8], epochs: 4 },
                space: [{ name: "learningRate", values: [0.001, 0.05] }], strategy: "grid", earlyStopping: "halving", halving: { eta: 2, minEpochs: 2 },
              },
            },
            { id: "register", kind: "register", params: { runId: "${search.runId}", model: "penguins-searched", alias: "staging" } },
          ],
        },
      },
    });
    const run = await finished((await mutate(RUN, { p: p.pipeline.id })).id);
    expect(run.status, run.error).toBe("succeeded");
    const search = await waitForJob(t, stepOf(run, "search").jobId);
    expect(search.result.pruned).toBe(1);
    expect(stepOf(run, "search").outputs).toMatchObject({ runId: search.result.bestRunId, parentRunId: search.result.parentRunId });
    const mv = (await t.gql(`query($id: ID!) { modelVersion(id: $id) { runId } }`, { id: stepOf(run, "register").outputs.modelVersionId })).data.modelVersion;
    expect(mv.runId).toBe(search.result.bestRunId);
    const [alias] = await t.app.db.query("SELECT model_version_id FROM model_aliases WHERE alias = 'staging' AND replaced_at IS NULL");
    expect(alias.model_version_id).toBe(stepOf(run, "register").outputs.modelVersionId);
  }, 120_000);

  it("cancels a run with its running step's job", async () => {
    const p = await mutate(CREATE, {
      i: { projectId, name: "long", spec: { steps: [{ id: "train", kind: "train", params: { datasetVersionId: penguinsVersionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [64, 64], epochs: 5000 } } }] } },
    });
    const started = await mutate(RUN, { p: p.pipeline.id });
    let run = await runOf(started.id);
    for (let i = 0; i < 100 && !run.steps[0].jobId; i++) {
      await sleep(100);
      run = await runOf(started.id);
    }
    const cancelled = await mutate(`mutation($id: ID!) { cancelPipelineRun(id: $id) { status error } }`, { id: started.id });
    expect(cancelled.status).toBe("cancelled");
    const job = await waitForJob(t, run.steps[0].jobId, 30_000);
    expect(job.status).toBe("cancelled");
    expect((await runOf(started.id)).steps[0].status).toBe("cancelled");
  }, 60_000);

  it("resumes a run after its orchestrator stops: a step's job that ended meanwhile is collected by the next one", async () => {
    const p = await mutate(CREATE, {
      i: { projectId, name: "resumable", spec: { steps: [{ id: "train", kind: "train", params: { datasetVersionId: penguinsVersionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16], epochs: 60 } } }] } },
    });
    const started = await mutate(RUN, { p: p.pipeline.id, force: true });
    let run = await runOf(started.id);
    for (let i = 0; i < 100 && !run.steps[0].jobId; i++) {
      await sleep(50);
      run = await runOf(started.id);
    }
    await t.worker!.pipelines.stop(); // the job runner goes on; nothing advances pipeline runs
    expect((await waitForJob(t, run.steps[0].jobId)).status).toBe("succeeded");
    await sleep(600);
    run = await runOf(started.id);
    expect([run.status, run.steps[0].status]).toEqual(["running", "running"]);
    const loop = startPipelineLoop({ db: t.app.db, bus: t.app.bus, store: t.app.artifacts, config: t.app.config, log: t.app.log });
    try {
      const done = await finished(started.id);
      expect(done.status, done.error).toBe("succeeded");
      expect(done.steps[0]).toMatchObject({ status: "succeeded", jobId: run.steps[0].jobId });
      expect(done.steps[0].outputs.artifactId).toBeTruthy();
    } finally {
      t.worker!.pipelines = loop; // stopped with the worker
    }
  }, 60_000);

  it("hides pipelines from other projects and lets viewers look but not run", async () => {
    const outsider = await newUserToken(t, "outsider@example.com");
    const other = await createProject(t, "elsewhere", outsider);
    for (const [query, vars] of [
      [`query($id: ID!) { pipeline(id: $id) { id } }`, { id: penguinsPipelineId }],
      [RUN, { p: penguinsPipelineId }],
      [`mutation($id: ID!) { rotatePipelineWebhookSecret(id: $id) }`, { id: penguinsPipelineId }],
    ] as const) {
      const r = await t.gql(query, vars, outsider);
      expect(r.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    }
    // Another project's dataset in a trigger is not found either.
    const [{ id: penguinsDataset }] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    const foreign = await t.gql(CREATE, { i: { projectId: other, name: "steal", spec: fitOnly("x"), triggers: [{ kind: "datasetVersion", datasetId: penguinsDataset }] } }, outsider);
    expect(foreign.errors?.[0].message).toMatch(/not found in this project/);

    const viewer = await newUserToken(t, "viewer@example.com");
    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "viewer@example.com", role: viewer) { role } }`, { p: projectId });
    expect((await t.gql(`query($id: ID!) { pipeline(id: $id) { name } }`, { id: penguinsPipelineId }, viewer)).data.pipeline.name).toBe("penguins");
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM pipeline_runs");
    const denied = await t.gql(RUN, { p: penguinsPipelineId }, viewer);
    expect(denied.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM pipeline_runs");
    expect(after).toBe(before);
  });
});
