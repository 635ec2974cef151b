import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";
import { spawnOuro } from "./helpers/process";
import { runningServing } from "../server/src/domains/deployments/serving/registry";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

type Row = Record<string, unknown>;

describe("serving: deployments, predict, traffic and the prediction log", () => {
  let t: TestOuro;
  let projectId: string;
  let base: string;
  let v1: string;
  let v2: string;
  let penguins: Row[];
  let deploymentId: string;
  let datasetVersionId: string;

  async function mutate(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const predict = (name: string, body: unknown, token: string | null = t.adminToken, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/endpoints/${name}/predict`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const predictOk = async (name: string, body: unknown) => {
    const res = await predict(name, body);
    const json = (await res.json()) as any;
    if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  /** A request row as a caller sends it: the features, not the label. */
  const features = (r: Row): Row => {
    const { Species: _s, ...rest } = r;
    return rest;
  };
  const DEPLOY = `mutation($i: DeployModelInput!) { deployModel(input: $i) { id name revision endpoint routes { name modelVersionIds weight } } }`;
  const TRAFFIC = `mutation($i: SetTrafficInput!) { setTraffic(input: $i) { revision routes { name weight } shadow { name } } }`;

  async function trainAndRegister(model: Record<string, unknown>, versionId: string, recipeId: string): Promise<string> {
    const job = await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model, seed: 3 } });
    const done = await waitForJob(t, job.id, 120_000);
    expect(done.status, done.error).toBe("succeeded");
    const [run] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    return (await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguins" }) { id } }`, { r: run.id })).id;
  }

  beforeAll(async () => {
    t = await startTestOuro({ label: "serving", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1", OURO_SERVING_MAX_ROWS: "200", OURO_MAX_BODY_BYTES: "65536", OURO_ROLLOUT_CHECK_MS: "200" } });
    base = t.url.replace(/\/graphql$/, "");
    projectId = await createProject(t, "serving");
    penguins = (JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Row[]).filter((r) => Object.values(r).every((v) => v !== null));
    const ingest = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).id);
    const versionId = ingest.result.versionId;
    datasetVersionId = versionId;
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    expect((await waitForJob(t, (await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: versionId })).id)).status).toBe("succeeded");
    v1 = await trainAndRegister({ kind: "mlp", layers: [16], epochs: 30 }, versionId, recipe.id);
    v2 = await trainAndRegister({ kind: "logistic", epochs: 20 }, versionId, recipe.id);
    deploymentId = (await mutate(DEPLOY, { i: { projectId, name: "penguins", modelVersionId: v1 } })).id;
  }, 300_000);
  afterAll(() => t?.stop());

  it("answers single rows and batches over REST and GraphQL with the training-time recipe, and logs every prediction", async () => {
    const one = await predictOk("penguins", features(penguins[0]));
    expect(one.predictions).toHaveLength(1);
    const p = one.predictions[0];
    expect(p).toMatchObject({ id: one.requestId, route: "primary", modelVersionId: v1, model: "penguins", version: 1 });
    expect(["Adelie", "Chinstrap", "Gentoo"]).toContain(p.label);
    expect(Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);

    const rows = penguins.slice(0, 120);
    const batch = await predictOk("penguins", { rows: rows.map(features) });
    const accuracy = batch.predictions.filter((q: { label: string }, i: number) => q.label === rows[i].Species).length / rows.length;
    expect(accuracy).toBeGreaterThan(0.85);
    expect(batch.predictions.map((q: { id: string }) => q.id)).toEqual(rows.map((_, i) => `${batch.requestId}.${i}`));

    // Missing values go through the recipe's fillNull exactly as in training.
    const withGap = await predictOk("penguins", { ...features(penguins[1]), "Body Mass (g)": null });
    expect(withGap.predictions[0].label).toBeDefined();

    const gql = await mutate(`mutation($d: ID!, $rows: [JSONObject!]!) { predict(deploymentId: $d, rows: $rows) { requestId predictions { id label probabilities modelVersionId } } }`, { d: deploymentId, rows: [features(penguins[0])] });
    expect(gql.predictions[0].label).toBe(p.label);
    expect(gql.predictions[0].probabilities).toEqual(p.probabilities);

    await waitForRows("SELECT count(*)::int AS n FROM prediction_log WHERE deployment_id = $1", [deploymentId], 123);
    const [logged] = await t.app.db.query("SELECT role, model_version_id, inputs, outputs, latency_ms FROM prediction_log WHERE request_id = $1", [one.requestId]);
    expect(logged).toMatchObject({ role: "primary", model_version_id: v1, inputs: features(penguins[0]), outputs: { prediction: p.label, probabilities: p.probabilities } });
    expect(logged.latency_ms).toBeGreaterThan(0);

    // Lineage reaches from the data through the model version to the endpoint serving it.
    const lineage = (await t.gql(`query($id: ID!) { lineage(id: $id) { nodes { id kind } edges { from to relation } } }`, { id: deploymentId })).data.lineage;
    expect(lineage.edges).toContainEqual({ from: v1, to: deploymentId, relation: "serves" });
    expect(lineage.nodes.map((n: { kind: string }) => n.kind)).toEqual(expect.arrayContaining(["deployment", "modelVersion", "run", "datasetVersion", "recipe"]));
  }, 60_000);

  it("refuses bad input with per-field reasons and changes nothing", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM prediction_log WHERE deployment_id = $1", [deploymentId]);
    const good = features(penguins[0]);
    // Island never had nulls in training, so it is required; the measurements had some and are filled by the recipe.
    const { Island: _dropped, ...missing } = good;
    const cases: [string, unknown, number, RegExp][] = [
      ["a missing field", missing, 400, /Island: missing/],
      ["a wrong type", { ...good, "Flipper Length (mm)": "long" }, 400, /Flipper Length \(mm\): expected an integer, got "long"/],
      ["an unknown field", { ...good, colour: "blue" }, 400, /colour: unknown field/],
      ["an array where a number goes", { ...good, "Body Mass (g)": [1, 2] }, 400, /Body Mass \(g\): expected an integer, got an array/],
      ["NaN (JSON has none; sent as text)", { ...good, "Beak Length (mm)": "NaN" }, 400, /Beak Length \(mm\): expected a number, got "NaN"/],
      ["an empty batch", { rows: [] }, 400, /batch is empty/],
      ["a row that is not an object", { rows: [42] }, 400, /must be a JSON object/],
      ["too many rows", { rows: Array(201).fill(good) }, 413, /at most 200 rows/],
      ["a body over the size limit", { rows: [{ ...good, pad: "x".repeat(70_000) }] }, 413, /larger than 65536 bytes/],
      ["malformed JSON", "{\"rows\": [", 400, /malformed request body/],
    ];
    for (const [what, body, status, message] of cases) {
      const res = await predict("penguins", body);
      const json = (await res.json()) as any;
      expect(res.status, what).toBe(status);
      expect(json.errors[0].message, what).toMatch(message);
      expect(json.errors[0].extensions.requestId, what).toBeTruthy();
    }
    // Several problems in several rows are reported together.
    const res = await predict("penguins", { rows: [missing, { ...good, "Flipper Length (mm)": "long" }] });
    const details = ((await res.json()) as any).errors[0].extensions.details.fields;
    expect(details).toEqual([
      { row: 0, field: "Island", reason: "missing" },
      { row: 1, field: "Flipper Length (mm)", reason: 'expected an integer, got "long"' },
    ]);
    expect((await predict("penguins", good, null)).status).toBe(401);
    expect((await predict("no-such-endpoint", good)).status).toBe(404);
    await sleep(400);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM prediction_log WHERE deployment_id = $1", [deploymentId]);
    expect(after).toBe(before);
  });

  it("keeps endpoints to their project: outsiders get 404, viewers may predict but not change traffic or labels", async () => {
    const outsider = await newUserToken(t, "outsider@serving.test");
    expect((await predict("penguins", features(penguins[0]), outsider)).status).toBe(404);
    expect((await predict(deploymentId, features(penguins[0]), outsider)).status).toBe(404);
    const viewer = await newUserToken(t, "viewer@serving.test");
    await mutate(`mutation($p: ID!) { setMembership(projectId: $p, email: "viewer@serving.test", role: viewer) { role } }`, { p: projectId });
    expect((await predict("penguins", features(penguins[0]), viewer)).status).toBe(200);
    const r = await t.gql(TRAFFIC, { i: { deploymentId, routes: [{ modelVersionIds: [v2] }] } }, viewer);
    expect(r.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const bad = await t.gql(DEPLOY, { i: { projectId, name: "Bad Name!", modelVersionId: v1 } });
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    const otherProject = await createProject(t, "elsewhere");
    const foreign = await t.gql(DEPLOY, { i: { projectId: otherProject, name: "stolen", modelVersionId: v1 } });
    expect(foreign.errors?.[0].message).toMatch(/model version .* not found/);
    const dup = await t.gql(DEPLOY, { i: { projectId, name: "penguins", modelVersionId: v2 } });
    expect(dup.errors?.[0].extensions?.code).toBe("CONFLICT");
  });

  it("splits traffic by weight, keeps a key on one route, mirrors shadow routes and combines ensembles", async () => {
    const d = await mutate(DEPLOY, { i: { projectId, name: "canary", routes: [{ name: "stable", modelVersionIds: [v1], weight: 1 }, { name: "canary", modelVersionIds: [v2], weight: 1 }], stickyKey: "Island" } });
    // Island is both a model input and the sticky key: every Biscoe row takes one route.
    const biscoe = penguins.filter((r) => r.Island === "Biscoe").slice(0, 40).map(features);
    const dream = penguins.filter((r) => r.Island === "Dream").slice(0, 40).map(features);
    const routesOf = async (rows: Row[]) => new Set((await predictOk("canary", { rows })).predictions.map((q: { route: string }) => q.route));
    expect((await routesOf(biscoe)).size).toBe(1);
    expect((await routesOf(dream)).size).toBe(1);
    await mutate(TRAFFIC, { i: { deploymentId: d.id, routes: [{ name: "stable", modelVersionIds: [v1], weight: 1 }, { name: "canary", modelVersionIds: [v2], weight: 1 }] } });
    await waitFor(async () => (await predictOk("canary", features(penguins[0]))).revision === 2);
    const seen = new Set<string>();
    for (let i = 0; i < 10 && seen.size < 2; i++) for (const q of (await predictOk("canary", { rows: penguins.slice(0, 50).map(features) })).predictions) seen.add(q.route);
    expect(seen).toEqual(new Set(["stable", "canary"]));

    const shadowed = await mutate(DEPLOY, { i: { projectId, name: "shadowed", modelVersionId: v1, shadow: [{ name: "challenger", modelVersionIds: [v2] }] } });
    const answer = await predictOk("shadowed", { rows: penguins.slice(0, 5).map(features) });
    expect(answer.predictions.every((q: { route: string }) => q.route === "primary")).toBe(true);
    const rows = await waitForRows("SELECT role, model_version_id FROM prediction_log WHERE deployment_id = $1 ORDER BY seq", [shadowed.id], 10);
    expect(rows.filter((r: { role: string }) => r.role === "shadow").map((r: { model_version_id: string }) => r.model_version_id)).toEqual(Array(5).fill(v2));

    const ensemble = await mutate(DEPLOY, { i: { projectId, name: "ensemble", routes: [{ name: "both", modelVersionIds: [v1, v2], combine: "mean" }] } });
    const [a, b, e] = await Promise.all([
      mutate(`mutation($d: ID!, $rows: [JSONObject!]!) { predict(deploymentId: $d, rows: $rows) { predictions { probabilities } } }`, { d: deploymentId, rows: [features(penguins[3])] }),
      predictOk("canary", features(penguins[3])).then(() => null),
      predictOk("ensemble", features(penguins[3])),
    ]);
    void b;
    const direct2 = await mutate(DEPLOY, { i: { projectId, name: "only-v2", modelVersionId: v2 } });
    const p2 = (await mutate(`mutation($d: ID!, $rows: [JSONObject!]!) { predict(deploymentId: $d, rows: $rows) { predictions { probabilities } } }`, { d: direct2.id, rows: [features(penguins[3])] })).predictions[0].probabilities;
    const p1 = a.predictions[0].probabilities;
    for (const k of Object.keys(p1)) expect(e.predictions[0].probabilities[k]).toBeCloseTo((p1[k] + p2[k]) / 2, 5);
  }, 60_000);

  it("moves traffic between versions under load without a single failed request", async () => {
    const d = await mutate(DEPLOY, { i: { projectId, name: "upgrade", modelVersionId: v1 } });
    let stop = false;
    const statuses = new Map<number, number>();
    const versions = new Set<string>();
    const client = async () => {
      let i = 0;
      while (!stop) {
        const res = await predict("upgrade", features(penguins[i++ % penguins.length]));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) versions.add(((await res.json()) as any).predictions[0].modelVersionId);
        else await res.text();
      }
    };
    const clients = Array.from({ length: 8 }, client);
    await sleep(300);
    await mutate(TRAFFIC, { i: { deploymentId: d.id, routes: [{ modelVersionIds: [v2] }] } });
    await waitFor(async () => (await predictOk("upgrade", features(penguins[0]))).predictions[0].modelVersionId === v2);
    await sleep(200);
    await mutate(TRAFFIC, { i: { deploymentId: d.id, routes: [{ modelVersionIds: [v1] }] } }); // rollback
    await waitFor(async () => (await predictOk("upgrade", features(penguins[0]))).predictions[0].modelVersionId === v1);
    await sleep(200);
    stop = true;
    await Promise.all(clients);
    expect([...statuses.keys()]).toEqual([200]);
    expect(statuses.get(200)).toBeGreaterThan(50);
    expect(versions).toEqual(new Set([v1, v2]));
    const audit = await t.app.db.query("SELECT action FROM audit_events WHERE target_id = $1 ORDER BY seq", [d.id]);
    expect(audit.map((r: { action: string }) => r.action)).toEqual(["deployment.create", "deployment.traffic", "deployment.traffic"]);
  }, 60_000);

  it("coalesces concurrent requests with micro-batching and gives the same answers", async () => {
    await mutate(DEPLOY, { i: { projectId, name: "batched", modelVersionId: v1, microBatch: { windowMs: 5, maxBatch: 32 } } });
    const rows = penguins.slice(0, 48).map(features);
    const unbatched = (await predictOk("penguins", { rows })).predictions;
    const batched = await Promise.all(rows.map((r) => predictOk("batched", r)));
    batched.forEach((b, i) => {
      expect(b.predictions[0].label).toBe(unbatched[i].label);
      for (const k of Object.keys(unbatched[i].probabilities)) expect(b.predictions[0].probabilities[k]).toBeCloseTo(unbatched[i].probabilities[k], 5);
    });
  }, 30_000);

  it("records labels by request id over REST and GraphQL", async () => {
    const answer = await predictOk("penguins", { rows: penguins.slice(0, 3).map(features) });
    const ids = answer.predictions.map((q: { id: string }) => q.id);
    const res = await fetch(`${base}/v1/endpoints/penguins/labels`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ labels: ids.slice(0, 2).map((id: string, i: number) => ({ requestId: id, label: penguins[i].Species })) }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ labelled: 2 });
    expect(await mutate(`mutation($d: ID!, $l: [LabelInput!]!) { logLabels(deploymentId: $d, labels: $l) }`, { d: deploymentId, l: [{ requestId: ids[2], label: penguins[2].Species }] })).toBe(1);
    const labels = await t.app.db.query("SELECT request_id, label FROM prediction_labels WHERE deployment_id = $1 ORDER BY request_id", [deploymentId]);
    expect(labels).toEqual(ids.map((id: string, i: number) => ({ request_id: id, label: penguins[i].Species })));
    const bad = await t.gql(`mutation($d: ID!, $l: [LabelInput!]!) { logLabels(deploymentId: $d, labels: $l) }`, { d: deploymentId, l: [{ requestId: "x y", label: "Adelie" }] });
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("streams throughput and latency of an endpoint through deploymentStats", async () => {
    await predictOk("penguins", { rows: penguins.slice(0, 30).map(features) });
    await sleep(400); // the log writes in the background
    const client = t.ws();
    const { events, errors } = await take<any>(client, `subscription($d: ID!) { deploymentStats(deploymentId: $d, windowSeconds: 600, everySeconds: 1) { rows rowsPerSecond p50Ms p99Ms labelled routes { modelVersionId role rows } } }`, { d: deploymentId }, 2, 10_000);
    await client.dispose();
    expect(errors).toEqual([]);
    expect(events).toHaveLength(2);
    const sample = events[1].deploymentStats;
    expect(sample.rows).toBeGreaterThanOrEqual(30);
    expect(sample.p99Ms).toBeGreaterThanOrEqual(sample.p50Ms);
    expect(sample.labelled).toBeGreaterThanOrEqual(3);
    expect(sample.routes).toContainEqual(expect.objectContaining({ modelVersionId: v1, role: "primary" }));
    const outsider = await newUserToken(t, "outsider3@serving.test");
    const denied = await take<any>(t.ws(outsider), `subscription($d: ID!) { deploymentStats(deploymentId: $d) { rows } }`, { d: deploymentId }, 1, 5_000);
    expect(JSON.stringify(denied.errors)).toMatch(/not found/);
  });

  it("keeps serving the other routes when a model version fails to load, and says why when none can", async () => {
    // A registered version whose model file is not a valid model (written by hand: the API never produces one).
    const [artifact] = await t.app.db.query(
      `INSERT INTO artifacts (project_id, name, kind, sha256, byte_size, content_type) VALUES ($1, 'broken.json', 'model', $2, '2', 'application/json') RETURNING id`,
      [projectId, (await t.app.artifacts.put(Buffer.from("{}") as never)).sha256],
    );
    const [model] = await t.app.db.query("SELECT model_id FROM model_versions WHERE id = $1", [v1]);
    const [broken] = await t.app.db.query(
      `INSERT INTO model_versions (project_id, model_id, version, artifact_id, signature) VALUES ($1, $2, 99, $3, '{"task":"multiclass"}') RETURNING id`,
      [projectId, model.model_id, artifact.id],
    );
    await mutate(DEPLOY, { i: { projectId, name: "half-broken", routes: [{ name: "good", modelVersionIds: [v1], weight: 1 }, { name: "bad", modelVersionIds: [broken.id], weight: 1 }] } });
    for (let i = 0; i < 5; i++) expect((await predictOk("half-broken", { rows: penguins.slice(0, 20).map(features) })).predictions.every((q: { route: string }) => q.route === "good")).toBe(true);
    await mutate(DEPLOY, { i: { projectId, name: "all-broken", modelVersionId: broken.id } });
    const res = await predict("all-broken", features(penguins[0]));
    expect(res.status).toBe(503);
    expect(((await res.json()) as any).errors[0].message).toMatch(/no model that loaded/);
    expect((await predict("penguins", features(penguins[0]))).status).toBe(200);

    const stopped = await mutate(`mutation($id: ID!) { setDeploymentStatus(id: $id, active: false) { status revision } }`, { id: deploymentId });
    expect(stopped.status).toBe("stopped");
    await waitFor(async () => (await predict("penguins", features(penguins[0]))).status === 503);
    await mutate(`mutation($id: ID!) { setDeploymentStatus(id: $id, active: true) { status } }`, { id: deploymentId });
    await waitFor(async () => (await predict("penguins", features(penguins[0]))).status === 200);
  }, 30_000);

  it("a model that throws while scoring fails only the requests routed to it: 500 naming the version, nothing logged for them, the other route keeps answering", async () => {
    const d = await mutate(DEPLOY, { i: { projectId, name: "flaky", routes: [{ name: "steady", modelVersionIds: [v1], weight: 1 }, { name: "crashing", modelVersionIds: [v2], weight: 1 }] } });
    const warm = (await predictOk("flaky", features(penguins[0]))).predictions[0].modelVersionId; // loads both versions
    const engine = runningServing(t.app)!;
    const servable = engine.loadedServables().find((s) => s.versionId === v2)!;
    const score = servable.score;
    // The fault: v2's network throws inside scoring, as a backend out of memory would.
    servable.score = () => {
      throw new Error("simulated crash inside the model (secret internals)");
    };
    let ok = 0;
    let failed = 0;
    try {
      for (let i = 0; i < 40; i++) {
        const res = await predict("flaky", features(penguins[i % penguins.length]));
        const body = (await res.json()) as any;
        if (res.status === 200) {
          expect(body.predictions[0].route).toBe("steady");
          ok++;
        } else {
          expect(res.status).toBe(500);
          expect(body.errors[0].extensions.code).toBe("INTERNAL");
          expect(body.errors[0].message).toMatch(/^model \S+ v\d+ failed while scoring/);
          expect(body.errors[0].extensions.details.modelVersionId).toBe(v2);
          expect(JSON.stringify(body)).not.toContain("secret internals");
          failed++;
        }
      }
    } finally {
      servable.score = score;
    }
    // Weighted 50/50: both happen (all 40 one way has probability 2^-39).
    expect(ok).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    expect(engine.modelFailures.get(v2)).toBeGreaterThanOrEqual(failed);
    // Only the answered requests are in the prediction log: during the fault all from v1, plus the warm-up request from either.
    await engine.log.drain();
    const logged = await t.app.db.query("SELECT model_version_id, count(*)::int AS n FROM prediction_log WHERE deployment_id = $1 GROUP BY 1 ORDER BY 2 DESC, 1", [d.id]);
    const expected = warm === v1 ? [{ model_version_id: v1, n: ok + 1 }] : [{ model_version_id: v1, n: ok }, { model_version_id: v2, n: 1 }];
    expect(logged).toEqual(expected.sort((a, b) => b.n - a.n || a.model_version_id.localeCompare(b.model_version_id)));
    const metrics = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
    expect(metrics).toMatch(new RegExp(`ouro_serving_model_failures_total\\{model_version_id="${v2}"\\} ${engine.modelFailures.get(v2)}`));
    // The model back to health: every request answers again.
    for (let i = 0; i < 10; i++) expect((await predict("flaky", features(penguins[i]))).status).toBe(200);
  }, 60_000);

  it("runs stateless `ouro serve` replicas that warm from the registry and follow traffic changes", async () => {
    const d = await mutate(DEPLOY, { i: { projectId, name: "replicated", modelVersionId: v1 } });
    const replica = spawnOuro(["serve"], { DATABASE_URL: t.databaseUrl, OURO_DATA_DIR: t.app.config.dataDir, OURO_LOG_LEVEL: "info" });
    try {
      const [, url] = await replica.waitFor(/serving replica ready at (http:\/\/[^\s]+)\/v1\/endpoints/, 60_000);
      const call = (body: unknown) =>
        fetch(`${url}/v1/endpoints/replicated/predict`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(body) });
      const first = (await (await call(features(penguins[0]))).json()) as any;
      expect(first.predictions[0].modelVersionId).toBe(v1);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/graphql`, { method: "POST" })).status).toBe(404);
      expect((await call(features(penguins[0])).then((r) => r.status))).toBe(200);
      // A traffic change made through the server reaches the replica through the bus.
      await mutate(TRAFFIC, { i: { deploymentId: d.id, routes: [{ modelVersionIds: [v2] }] } });
      await waitFor(async () => ((await (await call(features(penguins[0]))).json()) as any).predictions[0].modelVersionId === v2);
      const unauthenticated = await fetch(`${url}/v1/endpoints/replicated/predict`, { method: "POST", body: "{}" });
      expect(unauthenticated.status).toBe(401);
    } finally {
      replica.child.kill("SIGTERM");
      expect(await replica.exited).toBe(0);
    }
    // The replica flushed its log before exiting.
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM prediction_log WHERE deployment_id = $1", [d.id]);
    expect(n).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it("downloads a model artifact for project members only", async () => {
    const [{ artifact_id: artifactId }] = await t.app.db.query("SELECT artifact_id FROM model_versions WHERE id = $1", [v1]);
    const get = (id: string, token: string | null = t.adminToken) => fetch(`${base}/v1/artifacts/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const res = await get(artifactId);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    const body = (await res.json()) as any;
    expect(body.signature.classes).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    expect(body.fitted.formatVersion).toBeDefined(); // the recipe as fitted at training time travels with the model
    const outsider = await newUserToken(t, "outsider2@serving.test");
    expect((await get(artifactId, outsider)).status).toBe(404);
    expect((await get(artifactId, null)).status).toBe(401);
    expect((await get("../../etc/passwd")).status).toBe(404);
    expect((await get("not-an-id")).status).toBe(400);
  });

  it("scores a whole dataset version in a batch job, through the same recipe, into a new version with lineage", async () => {
    const job = await mutate(`mutation($m: ID!, $d: ID!) { batchPredict(modelVersionId: $m, datasetVersionId: $d, outputDataset: "penguins-scored") { id } }`, { m: v1, d: datasetVersionId });
    const done = await waitForJob(t, job.id, 60_000);
    expect(done.status, done.error).toBe("succeeded");
    const out = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { rowCount parentVersionIds schema { name } preview(limit: 400) { rows } } }`, { id: done.result.versionId })).data.datasetVersion;
    expect(Number(out.rowCount)).toBe(344);
    expect(out.parentVersionIds).toEqual([datasetVersionId]);
    expect(out.schema.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["Species", "Island", "prediction", "probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]));
    const rows = out.preview.rows;
    // The batch path and the online path agree row for row.
    const sample = penguins.slice(0, 20);
    const online = (await predictOk("penguins", { rows: sample.map(features) })).predictions;
    const byKey = new Map(rows.map((r: Row) => [JSON.stringify([r["Beak Length (mm)"], r["Beak Depth (mm)"], r["Flipper Length (mm)"], r["Body Mass (g)"], r.Island, r.Sex]), r]));
    sample.forEach((r, i) => {
      const batch = byKey.get(JSON.stringify([r["Beak Length (mm)"], r["Beak Depth (mm)"], r["Flipper Length (mm)"], r["Body Mass (g)"], r.Island, r.Sex])) as Row;
      expect(batch.prediction).toBe(online[i].label);
      expect(batch.probability_Adelie as number).toBeCloseTo(online[i].probabilities.Adelie, 4);
    });
    const viewerDenied = await t.gql(`mutation($m: ID!, $d: ID!) { batchPredict(modelVersionId: $m, datasetVersionId: $d, outputDataset: "x") { id } }`, { m: v1, d: "00000000-0000-4000-8000-000000000000" });
    expect(viewerDenied.errors?.[0].extensions?.code).toBe("NOT_FOUND");
  }, 90_000);

  it("replays a dataset with injected drift and delayed labels through simulateTraffic", async () => {
    const d = await mutate(DEPLOY, { i: { projectId, name: "simulated", modelVersionId: v1 } });
    const SIM = `mutation($i: SimulateTrafficInput!) { simulateTraffic(input: $i) { id } }`;
    const job = await mutate(SIM, { i: { deploymentId: d.id, datasetVersionId, rows: 60, rate: 300, batchSize: 5, labelColumn: "Species", labelDelaySeconds: 0.3, drift: { shift: { "Body Mass (g)": 1000 }, flipLabels: 1 } } });
    const done = await waitForJob(t, job.id, 60_000);
    expect(done.status, done.error).toBe("succeeded");
    expect(done.result).toMatchObject({ sent: 60, predicted: 60, refused: 0, labelled: 60 });
    expect(done.result.seconds).toBeGreaterThanOrEqual(0.15); // 60 rows at 300 rows/s
    const logged = await waitForRows("SELECT l.inputs, b.label FROM prediction_log l JOIN prediction_labels b USING (deployment_id, request_id) WHERE l.deployment_id = $1 ORDER BY l.seq", [d.id], 60);
    // The version's rows in order: the first one's body mass arrives 1000 g heavier, and every label was flipped.
    const first = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { preview(limit: 1) { rows } } }`, { id: datasetVersionId })).data.datasetVersion.preview.rows[0];
    expect(logged[0].inputs["Body Mass (g)"]).toBe(first["Body Mass (g)"] + 1000);
    expect(logged[0].inputs.Species).toBeUndefined();
    expect(logged[0].label).not.toBe(first.Species);
    // The same from a terminal: `ouro simulate` starts the job and prints its progress and result.
    const cli = spawnOuro(["simulate", "--url", t.url, "--token", t.adminToken, "--deployment", d.id, "--dataset-version", datasetVersionId, "--rows", "20", "--rate", "200", "--label-column", "Species", "--scale", "Body Mass (g)=1.5", "--mix", "Island=Dream:1"], {});
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toMatch(/simulation job [0-9a-f-]{36}/);
    expect(JSON.parse(cli.output().trim().split("\n").at(-1)!)).toMatchObject({ sent: 20, predicted: 20, refused: 0, labelled: 20 });
    const bad = spawnOuro(["simulate", "--url", t.url, "--token", "ouro_wrong", "--deployment", d.id, "--dataset-version", datasetVersionId, "--rows", "5", "--rate", "5"], {});
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/valid API token is required/);
    for (const [input, message] of [
      [{ rate: 0 }, /rate/],
      [{ labelColumn: "nope" }, /labelColumn nope/],
      [{ drift: { flipLabels: 2 } }, /flipLabels/],
      [{ drift: { categoryMix: { Island: { Dream: -1 } } } }, /categoryMix/],
    ] as const) {
      const base: Record<string, unknown> = { deploymentId: d.id, datasetVersionId, rows: 10, rate: 10, labelColumn: "Species" };
      const r = await t.gql(SIM, { i: { ...base, ...input } });
      expect(r.errors?.[0].message).toMatch(message);
    }
  }, 60_000);

  it("runs a canary rollout that the labels decide, automatically or with approval, every step audited", async () => {
    const ROLLOUT = `mutation($i: StartRolloutInput!) { startRollout(input: $i) { revision routes { name modelVersionIds weight } rollout { status } } }`;
    const STATE = `query($id: ID!) { deployment(id: $id) { routes { name modelVersionIds weight } rollout { status verdict { metric champion challenger championLabels challengerLabels better } } } }`;
    const labelled = async (name: string, id: string) => {
      // Real traffic with its ground truth: both routes collect labels.
      for (let round = 0; round < 4; round++) {
        const rows = penguins.slice(round * 80, round * 80 + 80);
        const answer = await predictOk(name, { rows: rows.map(features) });
        await mutate(`mutation($d: ID!, $l: [LabelInput!]!) { logLabels(deploymentId: $d, labels: $l) }`, { d: id, l: answer.predictions.map((q: { id: string }, i: number) => ({ requestId: q.id, label: rows[i].Species })) });
      }
    };
    const auto = await mutate(DEPLOY, { i: { projectId, name: "rollout-auto", modelVersionId: v1 } });
    const started = await mutate(ROLLOUT, { i: { deploymentId: auto.id, challengerVersionId: v2, canaryWeight: 0.5, minLabels: 20 } });
    expect(started.rollout.status).toBe("running");
    expect(started.routes).toEqual([{ name: "primary", modelVersionIds: [v1], weight: 0.5 }, { name: "challenger", modelVersionIds: [v2], weight: 0.5 }]);
    expect((await t.gql(ROLLOUT, { i: { deploymentId: auto.id, challengerVersionId: v2 } })).errors?.[0].extensions?.code).toBe("CONFLICT");
    await sleep(300); // the log writes in the background
    await labelled("rollout-auto", auto.id);
    let state: any;
    for (let i = 0; i < 100; i++) {
      state = (await t.gql(STATE, { id: auto.id })).data.deployment;
      if (state.rollout.status !== "running") break;
      await sleep(100);
    }
    const v = state.rollout.verdict;
    expect(v.metric).toBe("accuracy");
    expect(Math.min(v.championLabels, v.challengerLabels)).toBeGreaterThanOrEqual(20);
    expect(v.better).toBe(v.challenger >= v.champion);
    expect(state.rollout.status).toBe(v.better ? "promoted" : "rolledBack");
    expect(state.routes).toEqual([{ name: "primary", modelVersionIds: [v.better ? v2 : v1], weight: 1 }]);

    const manual = await mutate(DEPLOY, { i: { projectId, name: "rollout-manual", modelVersionId: v1 } });
    await mutate(ROLLOUT, { i: { deploymentId: manual.id, challengerVersionId: v2, canaryWeight: 0.5, minLabels: 20, mode: "manual" } });
    await sleep(300);
    await labelled("rollout-manual", manual.id);
    for (let i = 0; i < 100; i++) {
      state = (await t.gql(STATE, { id: manual.id })).data.deployment;
      if (state.rollout.status !== "running") break;
      await sleep(100);
    }
    expect(state.rollout.status).toBe("awaitingApproval");
    expect(state.routes).toHaveLength(2); // still a canary until someone decides
    const approved = await mutate(`mutation($d: ID!) { approveRollout(deploymentId: $d) { routes { modelVersionIds weight } rollout { status } } }`, { d: manual.id });
    expect(approved).toEqual({ routes: [{ modelVersionIds: [v2], weight: 1 }], rollout: { status: "promoted" } });
    const again = await t.gql(`mutation($d: ID!) { rollbackRollout(deploymentId: $d) { id } }`, { d: manual.id });
    expect(again.errors?.[0].extensions?.code).toBe("CONFLICT");
    const audit = await t.app.db.query("SELECT action FROM audit_events WHERE target_id = $1 ORDER BY seq", [manual.id]);
    expect(audit.map((r: { action: string }) => r.action)).toEqual(["deployment.create", "deployment.rollout.running", "deployment.rollout.awaitingApproval", "deployment.rollout.promoted"]);
  }, 60_000);

  it("enriches requests with online features by entity key, giving the same answer as the full row", async () => {
    // Penguins with an id, as a feature source: the measurements live in the online store.
    const rows: Row[] = penguins.slice(0, 150).map((r, i) => ({ penguin_id: i, ...r }));
    const csv = [Object.keys(rows[0]).join(","), ...rows.map((r) => Object.values(r).map((v) => (v === null ? "" : String(v))).join(","))].join("\n") + "\n";
    const up = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=tagged.csv`, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}` }, body: csv });
    const { uploadId } = (await up.json()) as { uploadId: string };
    const tagged = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "tagged-penguins", source: { uploadId } } })).id);
    const measurements = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"];
    const [{ dataset_id: datasetId }] = await t.app.db.query("SELECT dataset_id FROM dataset_versions WHERE id = $1", [tagged.result.versionId]);
    const fs = await mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, { i: { projectId, name: "penguin_body", sourceDatasetId: datasetId, entityKeys: ["penguin_id"], features: measurements } });
    expect((await waitForJob(t, (await mutate(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fs.id })).id)).status).toBe("succeeded");
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "tagged inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [{ op: "drop", columns: ["Sex", "penguin_id"] }, { op: "fillNull", columns: measurements, strategy: "mean" }, { op: "oneHot", column: "Island" }],
    });
    await waitForJob(t, (await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: tagged.result.versionId })).id);
    const job = await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { projectId, datasetVersionId: tagged.result.versionId, recipeId: recipe.id, target: "Species", task: "multiclass", model: { kind: "logistic", epochs: 20 }, seed: 3 } });
    const done = await waitForJob(t, job.id, 120_000);
    const [run] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    expect(done.status, done.error).toBe("succeeded");
    const mv = (await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "tagged" }) { id } }`, { r: run.id })).id;
    await mutate(DEPLOY, { i: { projectId, name: "enriched", modelVersionId: mv, enrich: { featureSetId: fs.id, entityColumn: "penguin_id" } } });
    await mutate(DEPLOY, { i: { projectId, name: "not-enriched", modelVersionId: mv } });
    for (const i of [3, 42, 120]) {
      const { Species: _s, ...full } = rows[i];
      const enriched = await predictOk("enriched", { penguin_id: i, Island: rows[i].Island });
      const plain = await predictOk("not-enriched", full);
      expect(enriched.predictions[0].probabilities).toEqual(plain.predictions[0].probabilities);
    }
    // What the caller sends wins over the store; an unknown entity leaves the gap, reported as such.
    const override = await predictOk("enriched", { penguin_id: 3, Island: rows[3].Island, "Body Mass (g)": 6000 });
    const { Species: _s3, ...full3 } = rows[3];
    expect(override.predictions[0].probabilities).toEqual((await predictOk("not-enriched", { ...full3, "Body Mass (g)": 6000 })).predictions[0].probabilities);
    // An entity the store does not know adds nothing: the recipe fills the gaps (fillNull), as for a row without a key.
    const unknown = await predictOk("enriched", { penguin_id: 9999, Island: "Dream" });
    const noKey = await predictOk("enriched", { Island: "Dream" });
    expect(unknown.predictions[0].probabilities).toEqual(noKey.predictions[0].probabilities);
    expect(unknown.predictions[0].probabilities).not.toEqual((await predictOk("enriched", { penguin_id: 3, Island: "Dream" })).predictions[0].probabilities);
  }, 120_000);

  async function waitForRows(query: string, params: unknown[], atLeast: number): Promise<any[]> {
    for (let i = 0; i < 100; i++) {
      const rows = await t.app.db.query(query, params);
      const n = rows.length === 1 && typeof rows[0].n === "number" ? rows[0].n : rows.length;
      if (n >= atLeast) return rows;
      await sleep(100);
    }
    throw new Error(`fewer than ${atLeast} rows for ${query}`);
  }
  async function waitFor(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await sleep(50);
    }
    throw new Error("condition not reached");
  }
});
