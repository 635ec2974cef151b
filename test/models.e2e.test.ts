import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

describe("training, evaluation and the model registry", () => {
  let t: TestOuro;
  let projectId: string;
  let versionId: string;
  let recipeId: string;

  const finished = (jobId: string, timeoutMs?: number) => waitForJob(t, jobId, timeoutMs);
  async function mutate(query: string, variables: Record<string, unknown>) {
    const r = await t.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  const TRAIN = `mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`;

  beforeAll(async () => {
    t = await startTestOuro({ label: "models", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1" } });
    projectId = await createProject(t, "models");
    const ingest = await finished((await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } } })).id);
    versionId = ingest.result.versionId;
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin inputs", steps: $s) { id } }`, {
      p: projectId,
      s: [
        { op: "drop", columns: ["Sex"] },
        { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
        { op: "oneHot", column: "Island" },
      ],
    });
    recipeId = recipe.id;
    expect((await finished((await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipeId, v: versionId })).id)).status).toBe("succeeded");
  }, 120_000);
  afterAll(() => t?.stop());

  it("trains an MLP with live epoch metrics, registers it, moves aliases and evaluates it", async () => {
    const job = await mutate(TRAIN, { i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16], epochs: 40 }, seed: 7 } });
    const [row] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    const client = t.ws();
    const live = take<any>(client, `subscription($r: ID!) { runMetrics(runId: $r, keys: ["loss"]) { points { step value } } }`, { r: row.id }, 1000, 60_000);
    const done = await finished(job.id);
    expect(done.status, done.error).toBe("succeeded");
    expect(["wasm", "cpu", "tensorflow"]).toContain(done.result.backend);
    expect(done.result.metrics.accuracy).toBeGreaterThan(0.9);
    await sleep(500);
    await client.dispose();
    const epochs = (await live).events.flatMap((e) => e.runMetrics.points.map((p: { step: number }) => p.step));
    expect(epochs.slice(0, 3)).toEqual([1, 2, 3]);

    const run = (await t.gql(`query($r: ID!) { run(id: $r) { status tags params { key value } metrics(keys: ["loss", "val_loss"]) { key total } artifacts { kind } } }`, { r: row.id })).data.run;
    expect(run.status).toBe("finished");
    expect(run.tags.backend).toBe(done.result.backend);
    expect(run.params).toContainEqual({ key: "backend", value: done.result.backend });
    expect(run.metrics.map((m: { total: number }) => m.total)).toEqual([40, 40]);
    expect(run.artifacts.map((a: { kind: string }) => a.kind).sort()).toEqual(["evaluation", "model"]);

    const v1 = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species", card: { description: "MLP on penguins", intendedUse: "demo" } }) { id version recipeId signature metrics } }`, { r: row.id });
    expect(v1.version).toBe(1);
    expect(v1.recipeId).toBe(recipeId);
    expect(v1.signature.target).toBe("Species");
    expect(v1.signature.classes).toEqual(["Adelie", "Chinstrap", "Gentoo"]);

    const lineage = (await t.gql(`query($id: ID!) { lineage(id: $id) { nodes { id kind label } edges { from to relation } truncated } }`, { id: v1.id })).data.lineage;
    const kinds = Object.fromEntries(lineage.nodes.map((n: { id: string; kind: string }) => [n.id, n.kind]));
    expect(kinds).toMatchObject({ [versionId]: "datasetVersion", [recipeId]: "recipe", [row.id]: "run", [v1.id]: "modelVersion" });
    expect(lineage.edges).toEqual(
      expect.arrayContaining([
        { from: versionId, to: recipeId, relation: "fitted" },
        { from: versionId, to: row.id, relation: "trainedOn" },
        { from: recipeId, to: row.id, relation: "preprocessed" },
        { from: row.id, to: v1.id, relation: "registered" },
      ]),
    );
    expect(lineage.truncated).toBe(false);

    const job2 = await mutate(TRAIN, { i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "logistic", epochs: 30 } } });
    expect((await finished(job2.id)).status).toBe("succeeded");
    const [row2] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job2.id]);
    const v2 = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "penguin-species" }) { id version modelId } }`, { r: row2.id });
    expect(v2.version).toBe(2);
    await mutate(`mutation($v: ID!) { setModelAlias(versionId: $v, alias: "production") { alias } }`, { v: v1.id });
    await mutate(`mutation($v: ID!) { setModelAlias(versionId: $v, alias: "production") { alias } }`, { v: v2.id });
    const model = (await t.gql(`query($m: ID!) { model(id: $m) { versions { version } current: aliases { alias modelVersionId } history: aliases(current: false) { modelVersionId replacedAt } } }`, { m: v2.modelId })).data.model;
    expect(model.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(model.current).toEqual([{ alias: "production", modelVersionId: v2.id }]);
    expect(model.history.map((h: { modelVersionId: string }) => h.modelVersionId)).toEqual([v2.id, v1.id]);
    expect(model.history[1].replacedAt).not.toBeNull();

    const evaluation = await finished((await mutate(`mutation($m: ID!, $d: ID!) { evaluateModel(modelVersionId: $m, datasetVersionId: $d) { id } }`, { m: v1.id, d: versionId })).id);
    expect(evaluation.status, evaluation.error).toBe("succeeded");
    expect(evaluation.result.metrics.accuracy).toBeGreaterThan(0.9);
    const compared = (await t.gql(`query($ids: [ID!]!) { compareModelVersions(ids: $ids) { version metrics } }`, { ids: [v1.id, v2.id] })).data.compareModelVersions;
    expect(compared.map((c: { version: number }) => c.version)).toEqual([1, 2]);
  }, 180_000);

  it("stops a training job promptly when cancelled and marks its run killed", async () => {
    const job = await mutate(TRAIN, { i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [64, 64], epochs: 5000 } } });
    const [row] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [job.id]);
    for (let i = 0; i < 200; i++) {
      const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1", [row.id]);
      if (n > 0) break;
      await sleep(100);
    }
    await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: job.id });
    for (let i = 0; i < 100; i++) {
      const run = (await t.gql(`query($r: ID!) { run(id: $r) { status } }`, { r: row.id })).data.run;
      if (run.status !== "running") break;
      await sleep(100);
    }
    const run = (await t.gql(`query($r: ID!) { run(id: $r) { status statusReason } }`, { r: row.id })).data.run;
    expect(run).toEqual({ status: "killed", statusReason: "job cancelled" });
  }, 60_000);

  it("refuses bad training input before starting a run", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ target: "Nope", task: "multiclass" }, /target column Nope not found/],
      [{ target: "Species", task: "multiclass", features: ["Ghost"] }, /Ghost/],
      [{ target: "Species", task: "multiclass", model: { kind: "mlp", layers: [0] } }, /model: layers/],
      [{ target: "Species", task: "multiclass", model: { kind: "transformer" } }, /model/],
    ];
    const before = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    for (const [extra, message] of cases) {
      const r = await t.gql(TRAIN, { i: { projectId, datasetVersionId: versionId, recipeId, ...extra } });
      expect(r.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0].message).toMatch(message);
    }
    const after = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    expect(after[0].n).toBe(before[0].n);
  });

  it("searches hyperparameters over a grid in child runs, in parallel, and names the best trial", async () => {
    const job = await mutate(`mutation($i: TrainModelInput!, $s: SearchInput!) { startHyperparameterSearch(input: $i, search: $s) { id } }`, {
      i: { projectId, experiment: "search", datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", epochs: 15 } },
      s: { strategy: "grid", space: [{ name: "learningRate", values: [0.0005, 0.02] }, { name: "layers", values: [[8], [32]] }], maxConcurrent: 2, metric: "val_loss", medianStopping: true },
    });
    // A trial's sampled hyperparameters are its params from its start, not only once training ends
    // (a trial stopped early never gets there): look at a trial in the middle of its 15 epochs.
    let midway: { id: string; keys: string[] } | undefined;
    for (let i = 0; i < 1200 && !midway; i++) {
      [midway] = await t.app.db.query(
        `SELECT r.id, array(SELECT key FROM params p WHERE p.run_id = r.id ORDER BY key) AS keys FROM runs r JOIN runs s ON s.id = r.parent_run_id
         WHERE s.job_id = $1 AND (SELECT count(*) FROM metric_points m WHERE m.run_id = r.id AND m.key = 'val_loss') BETWEEN 1 AND 10 LIMIT 1`,
        [job.id],
      );
      if (!midway) await new Promise((r) => setTimeout(r, 25));
    }
    expect(midway?.keys).toEqual(expect.arrayContaining(["model.learningRate", "model.layers", "trial"]));
    const done = await finished(job.id, 170_000);
    expect(done.status, done.error).toBe("succeeded");
    const { parentRunId, bestRunId, trials, bestScore } = done.result;
    expect(trials).toHaveLength(4);
    const children = await t.app.db.query("SELECT id FROM runs WHERE parent_run_id = $1", [parentRunId]);
    expect(children).toHaveLength(4);
    // The API lists a search's trials by parent, and top-level runs without them.
    const listed = (await t.gql(`query($p: ID!, $r: ID!) { trials: runs(projectId: $p, parentRunId: $r) { nodes { id } } top: runs(projectId: $p, topLevel: true, first: 100) { nodes { id parentRunId } } }`, { p: projectId, r: parentRunId })).data;
    expect(listed.trials.nodes.map((n: { id: string }) => n.id).sort()).toEqual(children.map((c: { id: string }) => c.id).sort());
    expect(listed.top.nodes.map((n: { id: string }) => n.id)).toContain(parentRunId);
    expect(listed.top.nodes.filter((n: { parentRunId: string | null }) => n.parentRunId !== null)).toEqual([]);
    const scored = trials.filter((r: { status: string; score: number | null }) => r.status === "succeeded" && r.score !== null);
    expect(bestScore).toBe(Math.min(...scored.map((r: { score: number }) => r.score)));
    expect(trials.find((r: { runId: string }) => r.runId === bestRunId).status).toBe("succeeded");
    const parent = (await t.gql(`query($r: ID!) { run(id: $r) { status params { key value } metrics(keys: ["trial.val_loss"]) { total } } }`, { r: parentRunId })).data.run;
    expect(parent.status).toBe("finished");
    expect(parent.params).toContainEqual({ key: "bestRunId", value: bestRunId });
    expect(parent.metrics[0].total).toBeGreaterThanOrEqual(scored.length);
  }, 180_000);

  it("refuses a search space that makes invalid models, before any work", async () => {
    const r = await t.gql(`mutation($i: TrainModelInput!, $s: SearchInput!) { startHyperparameterSearch(input: $i, search: $s) { id } }`, {
      i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass" },
      s: { strategy: "grid", space: [{ name: "dropout", values: [0.1, 5] }] },
    });
    expect(r.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(r.errors?.[0].message).toMatch(/trial 1 .*dropout/);
  });

  it("successive halving trains every trial briefly and only the best 1/eta of each rung longer", async () => {
    const job = await mutate(`mutation($i: TrainModelInput!, $s: SearchInput!) { startHyperparameterSearch(input: $i, search: $s) { id } }`, {
      i: { projectId, experiment: "halving", datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [8], epochs: 8 }, seed: 3 },
      s: { strategy: "grid", space: [{ name: "learningRate", values: [0.00001, 0.0001, 0.01, 0.05] }], maxConcurrent: 2, metric: "val_loss", earlyStopping: "halving", halving: { eta: 2, minEpochs: 2 } },
    });
    const done = await finished(job.id, 170_000);
    expect(done.status, done.error).toBe("succeeded");
    const { parentRunId, bestRunId, bestTrial, trials, rungs, pruned } = done.result;
    // Rungs of 2, 4 and 8 epochs: 4 trials, then the best 2, then the best 1.
    expect(rungs).toEqual([2, 4, 8]);
    expect(pruned).toBe(3);
    expect(trials.map((r: { pruned: boolean; rung: number; epochs: number }) => [r.pruned, r.rung, r.epochs]).sort()).toEqual(
      [[false, 2, 8], [true, 0, 2], [true, 0, 2], [true, 1, 4]].sort(),
    );
    expect(trials.find((r: { pruned: boolean }) => !r.pruned).index).toBe(bestTrial);
    const children = await t.app.db.query(
      `SELECT r.name, (SELECT count(*)::int FROM metric_points m WHERE m.run_id = r.id AND m.key = 'val_loss') AS epochs FROM runs r WHERE r.parent_run_id = $1 ORDER BY r.name`,
      [parentRunId],
    );
    expect(children).toHaveLength(7);
    expect(children.filter((c: { name: string }) => c.name.endsWith("rung-0")).map((c: { epochs: number }) => c.epochs)).toEqual([2, 2, 2, 2]);
    expect(children.filter((c: { name: string }) => c.name.endsWith("rung-1")).map((c: { epochs: number }) => c.epochs)).toEqual([4, 4]);
    expect(children.filter((c: { name: string }) => c.name.endsWith("rung-2")).map((c: { epochs: number }) => c.epochs)).toEqual([8]);
    // The trials kept after rung 0 are the two with the lowest val_loss there.
    const rung0 = await t.app.db.query("SELECT step::int AS trial, value FROM metric_points WHERE run_id = $1 AND key = 'rung0.val_loss' ORDER BY value, step", [parentRunId]);
    expect(rung0).toHaveLength(4);
    const promoted = children.filter((c: { name: string }) => c.name.endsWith("rung-1")).map((c: { name: string }) => Number(/trial-(\d+)/.exec(c.name)![1])).sort();
    expect(promoted).toEqual(rung0.slice(0, 2).map((r: { trial: number }) => r.trial).sort());
    const [best] = await t.app.db.query("SELECT name FROM runs WHERE id = $1", [bestRunId]);
    expect(best.name).toBe(`trial-${bestTrial}-rung-2`);
  }, 180_000);

  it("refuses halving settings that cannot work, before any run", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ epochs: 8 }, { space: [{ name: "epochs", values: [2, 4] }], halving: { eta: 2 } }, /remove epochs from the search space/],
      [{ epochs: 8 }, { space: [{ name: "learningRate", values: [0.1, 0.01] }], halving: { eta: 1 } }, /eta: an integer from 2 to 10/],
      [{ epochs: 4 }, { space: [{ name: "learningRate", values: [0.1, 0.01] }], halving: { minEpochs: 4 } }, /must be below the epochs budget \(4\)/],
    ];
    for (const [model, search, message] of cases) {
      const r = await t.gql(`mutation($i: TrainModelInput!, $s: SearchInput!) { startHyperparameterSearch(input: $i, search: $s) { id } }`, {
        i: { projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", ...model } },
        s: { strategy: "grid", earlyStopping: "halving", ...search },
      });
      expect(r.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0].message).toMatch(message);
    }
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM runs");
    expect(after).toBe(before);
  });
});
