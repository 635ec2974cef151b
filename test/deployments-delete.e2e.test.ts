import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

type Row = Record<string, unknown>;

describe("deleteDeployment", () => {
  let t: TestOuro;
  let projectId: string;
  let base: string;
  let modelVersionId: string;
  let penguins: Row[];

  async function mutate(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  /** The error code and message of a refused operation. */
  async function refused(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    expect(r.errors, JSON.stringify(r.data)).toBeDefined();
    return { code: r.errors![0].extensions?.code as string, message: r.errors![0].message };
  }
  const predict = (name: string, row: Row) =>
    fetch(`${base}/v1/endpoints/${name}/predict`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(row) });
  const features = (r: Row): Row => {
    const { Species: _s, ...rest } = r;
    return rest;
  };
  const DEPLOY = `mutation($i: DeployModelInput!) { deployModel(input: $i) { id name } }`;
  const STATUS = `mutation($id: ID!, $a: Boolean!) { setDeploymentStatus(id: $id, active: $a) { status } }`;
  const DELETE = `mutation($id: ID!) { deleteDeployment(id: $id) { id name status revision } }`;
  const deploy = async (name: string, extra: Row = {}): Promise<string> => (await mutate(DEPLOY, { i: { projectId, name, modelVersionId, ...extra } })).id;
  const stop = (id: string) => mutate(STATUS, { id, a: false });
  const exists = async (id: string) => (await t.app.db.query("SELECT 1 FROM deployments WHERE id = $1", [id])).length === 1;

  beforeAll(async () => {
    t = await startTestOuro({ label: "deployments-delete", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1" } });
    base = t.url.replace(/\/graphql$/, "");
    projectId = await createProject(t, "deployments-delete");
    penguins = (JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Row[]).filter((r) => Object.values(r).every((v) => v !== null));
    const ingest = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).id);
    const versionId = ingest.result.versionId;
    // Monitors take the training data's profile as their reference.
    expect((await waitForJob(t, (await mutate(`mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: versionId })).id)).status).toBe("succeeded");
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    expect((await waitForJob(t, (await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: versionId })).id)).status).toBe("succeeded");
    const job = await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { projectId, datasetVersionId: versionId, recipeId: recipe.id, target: "Species", task: "multiclass", model: { kind: "logistic", epochs: 5 }, seed: 3 } });
    const done = await waitForJob(t, job.id, 120_000);
    expect(done.status, done.error).toBe("succeeded");
    const [run] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    modelVersionId = (await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguins" }) { id } }`, { r: run.id })).id;
  }, 300_000);
  afterAll(() => t?.stop());

  it("needs an editor of the deployment's project: others get NOT_FOUND, unknown ids too, and nothing goes", async () => {
    const id = await deploy("guarded");
    await stop(id);
    const outsider = await newUserToken(t, "outsider@deployments-delete.test");
    expect(await refused(DELETE, { id }, outsider)).toEqual({ code: "NOT_FOUND", message: `deployment ${id} not found` });
    const unknown = "00000000-0000-4000-8000-000000000042";
    expect(await refused(DELETE, { id: unknown })).toEqual({ code: "NOT_FOUND", message: `deployment ${unknown} not found` });
    const anonymous = await fetch(t.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: DELETE, variables: { id } }) });
    expect(((await anonymous.json()) as any).errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(await exists(id)).toBe(true);
  });

  it("refuses while the deployment is active, and while a labelling task labels its prediction log, naming the reason", async () => {
    const id = await deploy("labelled");
    const active = await refused(DELETE, { id });
    expect(active.code).toBe("CONFLICT");
    expect(active.message).toMatch(/active: stop it first with setDeploymentStatus\(active: false\)/);
    expect((await predict("labelled", features(penguins[0]))).status).toBe(200);

    await stop(id);
    const task = await mutate(`mutation($i: CreateLabellingTaskInput!) { createLabellingTask(input: $i) { id } }`, {
      i: { projectId, name: "live-labels", source: { predictionLog: { deploymentId: id } }, labelSchema: { kind: "classes", classes: ["Adelie", "Chinstrap", "Gentoo"] }, selection: { strategy: "random" }, size: 1 },
    });
    const used = await refused(DELETE, { id });
    expect(used.code).toBe("CONFLICT");
    expect(used.message).toMatch(/labelling task live-labels/);
    expect(used.message).not.toMatch(/active/);
    expect(await exists(id)).toBe(true);
    expect(await t.app.db.query("SELECT 1 FROM labelling_tasks WHERE id = $1", [task.id])).toHaveLength(1);
  }, 60_000);

  it("refuses while a pipeline, a queued job or a rollout in progress still needs it", async () => {
    const id = await deploy("needed");
    await stop(id);
    // Written by hand: the refusal reads the JSON, whichever mutation wrote it.
    const [job] = await t.app.db.query(`INSERT INTO jobs (project_id, kind, payload, status, max_attempts) VALUES ($1, 'deployments.exportPredictions', $2, 'queued', 1) RETURNING id`, [projectId, { deploymentId: id }]);
    const jobRefusal = await refused(DELETE, { id });
    expect(jobRefusal).toMatchObject({ code: "CONFLICT", message: expect.stringMatching(new RegExp(`job deployments.exportPredictions ${job.id} \\(queued\\)`)) });
    await t.app.db.query(`UPDATE jobs SET status = 'succeeded' WHERE id = $1`, [job.id]);

    await t.app.db.query(`UPDATE deployments SET traffic = traffic || '{"rollout": {"status": "running", "challenger": "challenger"}}'::jsonb WHERE id = $1`, [id]);
    expect((await refused(DELETE, { id })).message).toMatch(/rollout of challenger \(running; approve or roll it back first\)/);
    await t.app.db.query(`UPDATE deployments SET traffic = traffic - 'rollout' WHERE id = $1`, [id]);

    const spec = { steps: [{ id: "score", kind: "simulateTraffic", params: { deploymentId: id } }] };
    await t.app.db.query(`INSERT INTO pipelines (project_id, name, spec, triggers) VALUES ($1, 'nightly', $2, '[]')`, [projectId, spec]);
    expect((await refused(DELETE, { id })).message).toMatch(/pipeline nightly \(step score \(simulateTraffic\)\)/);
    await t.app.db.query(`DELETE FROM pipelines WHERE name = 'nightly' AND project_id = $1`, [projectId]);

    expect((await mutate(DELETE, { id })).name).toBe("needed");
  });

  it("deletes a stopped deployment with its monitors and prediction log, audits it, and serving and deploymentStats let go of it", async () => {
    const id = await deploy("doomed");
    for (const r of penguins.slice(0, 3)) expect((await predict("doomed", features(r))).status).toBe(200);
    await waitFor(async () => (await t.app.db.query("SELECT count(*)::int AS n FROM prediction_log WHERE deployment_id = $1", [id]))[0].n === 3);
    const ids = (await t.app.db.query("SELECT request_id FROM prediction_log WHERE deployment_id = $1", [id])).map((r: { request_id: string }) => r.request_id);
    expect(await mutate(`mutation($d: ID!, $l: [LabelInput!]!) { logLabels(deploymentId: $d, labels: $l) }`, { d: id, l: [{ requestId: ids[0], label: "Adelie" }] })).toBe(1);
    await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`, { i: { deploymentId: id, name: "doomed-quality", kinds: ["data_quality"], window: { minutes: 60 } } });
    const [{ revision }] = await t.app.db.query("SELECT revision FROM deployments WHERE id = $1", [id]);
    await stop(id);
    // Serving hears of the stop through the bus, a moment later.
    await waitFor(async () => (await predict("doomed", features(penguins[0]))).status === 503);

    const client = t.ws();
    const stats = take<any>(client, `subscription($d: ID!) { deploymentStats(deploymentId: $d, windowSeconds: 600, everySeconds: 1) { rows } }`, { d: id }, 100, 15_000);
    await sleep(1500);
    const deleted = await mutate(DELETE, { id });
    expect(deleted).toMatchObject({ id, name: "doomed", status: "stopped" });

    expect(await exists(id)).toBe(false);
    expect(await t.app.db.query("SELECT 1 FROM monitors WHERE deployment_id = $1", [id])).toEqual([]);
    expect(await t.app.db.query("SELECT 1 FROM prediction_log WHERE deployment_id = $1", [id])).toEqual([]);
    expect(await t.app.db.query("SELECT 1 FROM prediction_labels WHERE deployment_id = $1", [id])).toEqual([]);
    const audit = await t.app.db.query("SELECT data FROM audit_events WHERE action = 'deployment.delete' AND target_id = $1", [id]);
    expect(audit.map((a: { data: unknown }) => a.data)).toEqual([{ name: "doomed", revision: revision + 1, monitors: 1, predictions: 3 }]);

    // Serving drops the endpoint on the deployment-changed message, well before its 5 s name cache would expire.
    let gone: any = null;
    await waitFor(async () => {
      const res = await predict("doomed", features(penguins[0]));
      gone = { status: res.status, body: await res.json() };
      return res.status !== 503;
    }, 20);
    expect(gone.status).toBe(404);
    expect(gone.body.errors[0].extensions.code).toBe("NOT_FOUND");

    const { events, errors } = await stats;
    await client.dispose();
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.length).toBeLessThan(10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ message: `deployment ${id} not found`, extensions: { code: "NOT_FOUND" } });
    expect((await refused(DELETE, { id })).code).toBe("NOT_FOUND");
  }, 60_000);

  it("clears the feature-set delete's refusal: a deployment enriching from it, stopped and deleted, no longer holds it", async () => {
    const [{ dataset_id: datasetId }] = await t.app.db.query("SELECT id AS dataset_id FROM datasets WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    const fs = await mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, { i: { projectId, name: "island_mass", sourceDatasetId: datasetId, entityKeys: ["Island"], features: ["Body Mass (g)"] } });
    const id = await deploy("enriched", { enrich: { featureSetId: fs.id, entityColumn: "Island" } });
    const DELETE_FS = `mutation($id: ID!) { deleteFeatureSet(id: $id) { id } }`;
    expect((await refused(DELETE_FS, { id: fs.id })).message).toMatch(/deployment enriched/);
    await stop(id);
    expect((await refused(DELETE_FS, { id: fs.id })).message).toMatch(/deployment enriched \(stopped/);
    await mutate(DELETE, { id });
    expect((await mutate(DELETE_FS, { id: fs.id })).id).toBe(fs.id);
  }, 60_000);

  async function waitFor(check: () => Promise<boolean>, tries = 100): Promise<void> {
    for (let i = 0; i < tries; i++) {
      if (await check()) return;
      await sleep(100);
    }
    throw new Error("condition not reached");
  }
});
