import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OuroApiError, OuroAuthError, OuroClient, OuroInputError, OuroJobError, OuroNetworkError, OuroNotFoundError, type Job } from "../client-sdk/src/index";
import { fileBlob, uploadPath } from "../client-sdk/src/node";
import { eventually } from "../client-sdk/src/testing/helpers";
import { seedDemo } from "../scripts/demo";
import { newUserToken, startTestOuro, type TestOuro } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const PENGUINS = path.join(DATA, "penguins.json");
const MISSING = "00000000-0000-0000-0000-000000000000";

type Row = Record<string, unknown>;

/**
 * The high-level SDK against a real Ouro (PostgreSQL, worker, serving): the lifecycle on
 * penguins through `ouro.datasets`, `recipes`, `models` and `deployments`; what the SDK throws
 * for a wrong token, unknown ids, another user's objects, bad rows and bad uploads; labelling
 * and events; then `npm run demo` (twice) and `examples/lifecycle.ts` (monitors, alerts,
 * pipelines, rollouts) against the same server. Tests run in order and share its state.
 */
describe("the SDK through the lifecycle", () => {
  let t: TestOuro;
  let ouro: OuroClient;
  let projectId: string;
  let penguins: Row[];
  let versionId: string;
  let recipeId: string;
  let runId: string;
  let modelVersionId: string;
  let deploymentId: string;

  beforeAll(async () => {
    t = await startTestOuro({ label: "sdk-lifecycle", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1" } });
    ouro = new OuroClient({ url: t.url, token: t.adminToken });
    projectId = (await ouro.projects.create({ name: "sdk-lifecycle" })).id;
    penguins = JSON.parse(await readFile(PENGUINS, "utf8")) as Row[];
  });
  afterAll(async () => {
    await ouro?.close();
    await t?.stop();
  });

  it("uploads and ingests a file (Blob from disk, then the same bytes as a Uint8Array), previews and profiles it", async () => {
    const states: Job[] = [];
    const ingest = await ouro.datasets.upload(await fileBlob(PENGUINS), { projectId, dataset: "penguins", filename: "penguins.json" });
    expect(ingest.kind).toBe("datasets.ingest");
    const done = await ingest.wait({ onProgress: (j) => states.push(j) });
    expect(done.status).toBe("succeeded");
    expect(states.at(-1)?.status).toBe("succeeded");
    expect(done.result).toMatchObject({ rowCount: penguins.length, created: true });
    versionId = done.result!.versionId;

    // The same content again, as bytes through the Node path helper's sibling: no new version.
    const again = await ouro.datasets.upload(new Uint8Array(await readFile(PENGUINS)), { projectId, dataset: "penguins", filename: "penguins.json" });
    expect(await again.result()).toMatchObject({ versionId, created: false });
    const viaPath = await uploadPath(ouro, PENGUINS, { projectId, dataset: "penguins" });
    expect((await viaPath.result()).versionId).toBe(versionId);

    const dataset = await ouro.datasets.findByName(projectId, "penguins");
    expect(dataset?.latestVersion?.id).toBe(versionId);
    const version = await ouro.datasets.version(versionId);
    expect(version.rowCount).toBe(penguins.length);
    expect(version.schema.map((c) => c.name)).toEqual(Object.keys(penguins[0]!));

    const preview = await ouro.datasets.preview(versionId, { limit: 5, offset: 2 });
    expect(preview.totalRows).toBe(penguins.length);
    expect(preview.rows).toHaveLength(5);
    expect(preview.rows[0]).toMatchObject({ Species: penguins[2]!.Species, Island: penguins[2]!.Island });

    expect(await ouro.datasets.getProfile(versionId)).toBeNull();
    const profiled = await (await ouro.datasets.profile(versionId, [{ kind: "allowedSet", column: "Species", values: ["Adelie", "Gentoo", "Chinstrap"] }])).result();
    expect(profiled).toMatchObject({ versionId, qualityPassed: true });
    const profile = (await ouro.datasets.getProfile(versionId)) as { columns: { name: string; nulls: number }[] };
    const mass = profile.columns.find((c) => c.name === "Body Mass (g)");
    expect(mass?.nulls).toBe(penguins.filter((r) => r["Body Mass (g)"] === null).length);
  });

  it("creates and fits a recipe, and transforms a row with it", async () => {
    const recipe = await ouro.recipes.create(projectId, "inputs", [
      { op: "drop", columns: ["Sex"] },
      { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
      { op: "oneHot", column: "Island" },
    ]);
    recipeId = recipe.id;
    expect(recipe.fitted).toBeNull();
    const fit = await (await ouro.recipes.fit(recipeId, versionId)).result();
    expect(fit.recipeId).toBe(recipeId);
    expect((await ouro.recipes.get(recipeId)).fittedOnVersionId).toBe(versionId);
    const row = await ouro.recipes.transformRow(recipeId, { ...penguins[0], "Body Mass (g)": null });
    expect(row).not.toHaveProperty("Sex");
    expect(typeof row?.["Body Mass (g)"]).toBe("number"); // filled with the fitted mean
  });

  it("trains a small model with its run id known up front, registers it and sets an alias", async () => {
    const job = await ouro.models.train({ projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16], epochs: 30 }, seed: 1 });
    expect(job.runId).toMatch(/^[0-9a-f-]{36}$/);
    const seen: string[] = [];
    for await (const state of job.watch()) seen.push(state.status);
    expect(seen.at(-1)).toBe("succeeded");
    const result = await job.result();
    expect(result.runId).toBe(job.runId);
    runId = job.runId!;
    const run = await ouro.runs.get(runId, { keys: ["loss"] });
    expect(run.name).toBe(job.runName);
    expect(run.metrics[0]?.total).toBeGreaterThan(0);

    const version = await ouro.models.register({ runId, model: "penguins", card: { description: "from the SDK test" } });
    modelVersionId = version.id;
    expect(version).toMatchObject({ version: 1, runId, recipeId });
    const evaluation = await (await ouro.models.evaluate({ datasetVersionId: versionId, modelVersionId: version.id })).result();
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.8);
    // The model file itself, through GET /v1/artifacts/{id}.
    const download = await ouro.downloadArtifact(version.artifactId!);
    expect(download.headers.get("etag")).toMatch(/^"[0-9a-f]{64}"$/);
    expect(((await download.json()) as { format: number; recipeId: string }).recipeId).toBe(recipeId);
    const alias = await ouro.models.setAlias(version.id, "production");
    expect(alias).toMatchObject({ alias: "production", modelVersionId: version.id });
    const model = await ouro.models.findByName(projectId, "penguins");
    expect(model && (await ouro.models.versionByAlias(model.id, "production"))?.id).toBe(version.id);
    expect((await ouro.models.compare([version.id])).map((v) => v.id)).toEqual([version.id]);
    const lineage = await ouro.models.lineage(version.id);
    expect(lineage.nodes.map((n) => n.kind)).toEqual(expect.arrayContaining(["modelVersion", "run", "datasetVersion"]));
  });

  it("deploys, predicts over REST, logs labels, simulates drifted traffic and streams stats", async () => {
    const deployment = await ouro.deployments.deploy({ projectId, name: "penguins", modelVersionId });
    deploymentId = deployment.id;
    expect(deployment.routes[0]?.modelVersionIds).toEqual([modelVersionId]);

    const features = (r: Row): Row => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "Species"));
    const complete = penguins.filter((r) => Object.values(r).every((v) => v !== null));
    const one = await ouro.deployments.predict("penguins", features(complete[0]!));
    expect(one.predictions).toHaveLength(1);
    expect(["Adelie", "Chinstrap", "Gentoo"]).toContain(one.predictions[0]!.label);
    const batch = await ouro.deployments.predict(deploymentId, complete.slice(0, 30).map(features), { projectId });
    expect(batch.predictions).toHaveLength(30);
    const labelled = await ouro.deployments.logLabels(deploymentId, batch.predictions.map((p, i) => ({ requestId: p.id, label: complete[i]!.Species })));
    expect(labelled).toBe(30);
    const viaGraphql = await ouro.deployments.predictGraphql(deploymentId, [features(complete[0]!)]);
    expect(viaGraphql.predictions[0]!.probabilities).toEqual(one.predictions[0]!.probabilities);

    const sim = await ouro.deployments.simulate({ deploymentId, datasetVersionId: versionId, rows: 40, rate: 400, batchSize: 10, labelColumn: "Species", labelDelaySeconds: 0.1, seed: 7, drift: { shift: { "Body Mass (g)": 800 } } });
    const simulated = await sim.result();
    expect(simulated.sent).toBe(40);
    expect(simulated.predicted + simulated.refused).toBe(40);

    await eventually(async () => (await ouro.deployments.statsNow(deploymentId, 3600)).rows >= 31 + simulated.predicted, "every prediction in the log");
    const now = await ouro.deployments.statsNow(deploymentId, 3600);
    const stream = ouro.deployments.stats(deploymentId, { everySeconds: 1, windowSeconds: 3600 });
    const samples = [];
    for await (const sample of stream) {
      samples.push(sample);
      if (samples.length === 2) break;
    }
    expect(samples[1]!.rows).toBeGreaterThanOrEqual(now.rows);
    expect(samples[1]!.labelled).toBeGreaterThanOrEqual(30);
    expect(Date.parse(samples[1]!.at)).toBeGreaterThan(Date.parse(samples[0]!.at));
  });

  it("applies a recipe as a job, splits traffic, runs a manual canary to rollback and to promotion, batch-predicts, and watches a pipeline's runs", async () => {
    // applyRecipe: a new version of another dataset, the recipe's output columns, every row.
    const applied = await (await ouro.recipes.apply(recipeId, versionId, "penguins-prepared")).result();
    const prepared = await ouro.datasets.version(applied.versionId);
    expect(prepared.rowCount).toBe(penguins.length);
    expect(prepared.schema.map((c) => c.name)).not.toContain("Sex");
    expect(prepared.schema.map((c) => c.name)).toContain("Island_Biscoe");

    // A second version of the model to split traffic with.
    const train2 = await ouro.models.train({ projectId, datasetVersionId: versionId, recipeId, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [8], epochs: 20 }, seed: 2 });
    const v2 = await ouro.models.register({ runId: (await train2.result()).runId, model: "penguins" });

    const split = await ouro.deployments.setTraffic({ deploymentId, routes: [{ name: "a", modelVersionIds: [modelVersionId], weight: 3 }, { name: "b", modelVersionIds: [v2.id], weight: 1 }] });
    expect(split.routes.map((r) => [r.name, r.weight])).toEqual([["a", 3], ["b", 1]]);
    const back = await ouro.deployments.setTraffic({ deploymentId, routes: [{ name: "primary", modelVersionIds: [modelVersionId] }] });
    expect(back.revision).toBeGreaterThan(split.revision);

    // A manual canary rolled back leaves v1 alone; a second one approved leaves v2 alone.
    const canary = await ouro.deployments.rollout.start({ deploymentId, challengerVersionId: v2.id, canaryWeight: 0.2, mode: "manual" });
    expect(canary.routes.flatMap((r) => r.modelVersionIds).sort()).toEqual([modelVersionId, v2.id].sort());
    const rolledBack = await ouro.deployments.rollout.rollback(deploymentId);
    expect(rolledBack.routes.flatMap((r) => r.modelVersionIds)).toEqual([modelVersionId]);
    await ouro.deployments.rollout.start({ deploymentId, challengerVersionId: v2.id, canaryWeight: 0.2, mode: "manual" });
    const promoted = await ouro.deployments.rollout.approve(deploymentId);
    expect(promoted.routes.flatMap((r) => r.modelVersionIds)).toEqual([v2.id]);

    // batchPredict: one prediction per input row, in a new version parented to the input.
    const scored = await (await ouro.deployments.batchPredict({ modelVersionId: v2.id, datasetVersionId: versionId, outputDataset: "penguins-scored" })).result();
    const scoredVersion = await ouro.datasets.version(scored.versionId);
    expect(scoredVersion.rowCount).toBe(penguins.length);
    expect(scoredVersion.schema.map((c) => c.name)).toContain("prediction");

    // pipelines.watch sees a run it did not start itself, through to its end.
    const { pipeline } = await ouro.pipelines.create({
      projectId,
      name: "refit",
      spec: { steps: [{ id: "fit", kind: "fitRecipe", params: { recipeId, versionId } }] },
      triggers: [{ kind: "manual" }],
    });
    const seen: string[] = [];
    const stream = ouro.pipelines.watch(pipeline.id);
    const run = await ouro.pipelines.run(pipeline.id);
    for await (const update of stream) {
      expect(update.id).toBe(run.id);
      seen.push(update.status);
      if (["succeeded", "failed", "cancelled"].includes(update.status)) break;
    }
    expect(seen.at(-1)).toBe("succeeded");
  });

  it("throws typed errors: wrong token, unknown ids, another user's objects, bad rows, bad uploads", async () => {
    // A wrong token: GraphQL, REST (predict, upload) and a live stream all say OuroAuthError.
    const wrong = new OuroClient({ url: t.url, token: "ouro_wrongwrongwrong" });
    try {
      for (const attempt of [
        () => wrong.viewer(),
        () => wrong.deployments.predict("penguins", { Island: "Biscoe" }),
        () => wrong.datasets.uploadFile(projectId, "a,b\n1,2\n", { filename: "x.csv" }),
        async () => {
          for await (const _ of wrong.deployments.stats(deploymentId)) break;
        },
      ]) {
        const err = await attempt().then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(OuroAuthError);
        expect(err).toBeInstanceOf(OuroApiError);
        expect(err).toMatchObject({ code: "UNAUTHENTICATED" });
      }
    } finally {
      await wrong.close();
    }

    // Unknown ids: NOT_FOUND, whether GraphQL or REST.
    for (const attempt of [
      () => ouro.datasets.version(MISSING),
      () => ouro.models.version(MISSING),
      () => ouro.deployments.get(MISSING),
      () => ouro.deployments.predict("no-such-endpoint", { Island: "Biscoe" }),
      () => ouro.downloadArtifact(MISSING),
      () => ouro.recipes.fit(MISSING, MISSING),
    ]) {
      const err = await attempt().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(OuroNotFoundError);
      expect((err as OuroApiError).requestId).toBeTruthy();
    }

    // Another user's view of this project's objects: not found, not forbidden (no existence leak).
    const other = new OuroClient({ url: t.url, token: await newUserToken(t, "other@example.com") });
    try {
      for (const attempt of [() => other.datasets.version(versionId), () => other.deployments.predict(deploymentId, { Island: "Biscoe" }), () => other.models.train({ projectId, datasetVersionId: versionId, target: "Species", task: "multiclass" })]) {
        await expect(attempt()).rejects.toBeInstanceOf(OuroNotFoundError);
      }
    } finally {
      await other.close();
    }

    // A row the model cannot take: every problem named, nothing predicted.
    // Island missing, one column misspelled.
    const bad = await ouro.deployments.predict("penguins", { "Beak Lenght (mm)": 40 }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OuroInputError);
    const fields = ((bad as OuroInputError).details as { fields: { field: string }[] }).fields.map((f) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["Island", "Beak Lenght (mm)"]));

    // An empty upload is refused and leaves no dataset behind; a malformed file fails its job with the reason.
    await expect(ouro.datasets.upload(new Uint8Array(0), { projectId, dataset: "empty" })).rejects.toBeInstanceOf(OuroInputError);
    expect(await ouro.datasets.findByName(projectId, "empty")).toBeNull();
    const broken = await ouro.datasets.upload(new Blob(['{"a": 1, "b": [unterminated']), { projectId, dataset: "broken", filename: "broken.json" });
    const failure = await broken.wait().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OuroJobError);
    expect((failure as OuroJobError).job.status).toBe("failed");

    // A bad recipe step is refused when the recipe is created.
    await expect(ouro.recipes.create(projectId, "bad", [{ op: "noSuchStep" }])).rejects.toBeInstanceOf(OuroInputError);

    // Nothing listening: a network error, not an API error.
    const nowhere = new OuroClient({ url: "http://127.0.0.1:9/graphql", token: "ouro_x", maxRetries: 0 });
    const down = await nowhere.deployments.predict("penguins", {}).catch((e: unknown) => e);
    expect(down).toBeInstanceOf(OuroNetworkError);
    await nowhere.close();
  });

  it("labels rows of a dataset version and feeds events to a window feature set", async () => {
    // Labelling: a task of 5 random rows, labelled, followed live, exported as a dataset.
    const task = await ouro.labelling.createTask({
      projectId,
      name: "species-check",
      source: { datasetVersionId: versionId },
      selection: { strategy: "random", seed: 1 },
      size: 5,
      labelSchema: { kind: "classes", classes: ["Adelie", "Chinstrap", "Gentoo"] },
    });
    await ouro.jobs.wait(task.buildJobId!);
    const items = await ouro.labelling.next(task.id, 10);
    expect(items).toHaveLength(5);
    for (const item of items.slice(0, 4)) await ouro.labelling.submit(item.id, { class: String(item.values.Species) });
    await ouro.labelling.skip(items[4]!.id);
    await expect(ouro.labelling.submit(items[0]!.id, { class: "Emperor" })).rejects.toBeInstanceOf(OuroInputError);
    const progress = ouro.labelling.progress(task.id);
    const now = (await progress.next()).value!;
    progress.close();
    expect(now).toMatchObject({ totalItems: 5, labelledItems: 4, skips: 1 });
    const exported = await (await ouro.labelling.export(task.id, { labelledOnly: true })).result();
    expect((await ouro.datasets.version(exported.versionId)).rowCount).toBe(4);

    // Events: a window feature set, a batch over REST, the same batch again (duplicates), a bad event.
    const source = await ouro.events.createSource({
      projectId,
      name: "weather_events",
      entityKeys: ["weather"],
      eventIdColumn: "id",
      eventTimeColumn: "ts",
      allowedLatenessSeconds: 30 * 86400,
      fields: [{ name: "weather", type: "string" }, { name: "precipitation", type: "float" }],
      aggregations: [{ name: "events_7d", function: "count", window: "7d" }, { name: "precip_1d", function: "sum", field: "precipitation", window: "1d" }],
    });
    const start = Date.now() - 3 * 86400_000;
    const events = Array.from({ length: 20 }, (_, i) => ({ id: `e${i}`, ts: new Date(start + i * 3600_000).toISOString(), weather: i % 2 ? "rain" : "sun", precipitation: i % 2 ? 1.5 : 0 }));
    expect(await ouro.events.send(source.featureSetId, events)).toMatchObject({ accepted: 20, duplicates: 0, rejected: [] });
    expect(await ouro.events.send(source.featureSetId, events)).toMatchObject({ accepted: 0, duplicates: 20 });
    const bad = await ouro.events.ingest(source.featureSetId, [{ id: "x", weather: "rain", precipitation: "lots" }]);
    expect(bad.accepted).toBe(0);
    expect(bad.rejected[0]?.index).toBe(0);
    const [rain] = await ouro.featureSets.online(source.featureSetId, ["rain"]);
    expect(rain?.values).toMatchObject({ events_7d: 10 });
    await expect(ouro.events.send(MISSING, events)).rejects.toBeInstanceOf(OuroNotFoundError);
  });

  it("npm run demo seeds a project through the SDK, and a second run reuses what is there", async () => {
    const lines: string[] = [];
    const first = await seedDemo(ouro, { project: "demo-seed", log: (l) => lines.push(l) });
    expect(first.datasets.map((d) => [d.name, d.rows])).toEqual([["penguins", penguins.length], ["seattle-weather", 1461]]);
    for (const d of first.datasets) expect(await ouro.datasets.getProfile(d.versionId)).not.toBeNull();
    expect(first.runs).toHaveLength(2);
    for (const r of first.runs) expect((await ouro.runs.get(r.id)).status).toBe("finished");
    const model = await ouro.models.get(first.model.id);
    expect(model.aliases).toEqual([expect.objectContaining({ alias: "production", modelVersionId: first.model.versionId })]);
    // The prediction log is written in the background: wait for it, then compare.
    await eventually(async () => (await ouro.deployments.statsNow(first.deployment.id, 3600)).rows >= first.deployment.predictions, "the demo's predictions in the log");
    const stats = await ouro.deployments.statsNow(first.deployment.id, 3600);
    expect(stats.rows).toBe(first.deployment.predictions);
    expect(stats.labelled).toBe(first.deployment.labels);
    expect(first.deployment.labels).toBe(first.deployment.predictions);
    expect(lines.some((l) => l.includes("is production"))).toBe(true);
    // 3M flights joined with airports: one row per (state, month), derived from both inputs.
    const byState = await ouro.datasets.version(first.flights.outputVersionId);
    const groups = await ouro.datasets.preview(first.flights.outputVersionId, { limit: 500, offset: 0 });
    expect(groups.rows).toHaveLength(first.flights.groups);
    expect(groups.rows.reduce((n, r) => n + Number(r.flights), 0)).toBe(3_000_000);
    expect([...byState.parentVersionIds].sort()).toEqual([first.flights.versionId, first.flights.airportsVersionId].sort());

    const second = await seedDemo(ouro, { project: "demo-seed" });
    expect(second.project.id).toBe(first.project.id);
    expect(second.datasets.map((d) => d.versionId)).toEqual(first.datasets.map((d) => d.versionId));
    expect(second.runs.map((r) => r.id)).toEqual(first.runs.map((r) => r.id));
    expect(second.model.versionId).toBe(first.model.versionId);
    expect(second.deployment.id).toBe(first.deployment.id);
    expect(second.flights.outputVersionId).toBe(first.flights.outputVersionId);
    expect((await ouro.runs.list(first.project.id, { experiment: "penguins-species" })).totalCount).toBe(2);
    expect((await ouro.models.get(first.model.id)).versions).toHaveLength(1);
  }, 300_000);

  it("npm run demo as a script: prints what it seeded; without a token or with a wrong one, says what to do", async () => {
    const root = path.resolve(__dirname, "..");
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["-r", "@swc-node/register", "scripts/demo.ts"], { cwd: root, env: { ...process.env, OURO_TOKEN: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    // The project the previous test seeded: everything is reused, so this is quick.
    const ok = await run({ OURO_URL: t.url, OURO_TOKEN: t.adminToken, OURO_DEMO_PROJECT: "demo-seed" });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/done in \d+ s: project "demo-seed"/);
    expect(ok.stdout).toMatch(/model: +penguin-species v1 @production/);
    expect(ok.stdout).toMatch(/deployment: penguins → \/v1\/endpoints\/penguins\/predict/);
    const missing = await run({});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs an API token: OURO_TOKEN=/);
    const wrong = await run({ OURO_URL: t.url, OURO_TOKEN: "ouro_not_a_real_token" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the token/);
  }, 60_000);

  // Quick settings unless OURO_EXAMPLE_FULL=1 (then the example's own epochs and trials).
  it("examples/lifecycle.ts walks the whole lifecycle against the server", async () => {
    const root = path.resolve(__dirname, "..");
    const out: string[] = [];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ["-r", "@swc-node/register", "examples/lifecycle.ts"], {
        cwd: root,
        env: { ...process.env, OURO_URL: t.url, OURO_TOKEN: t.adminToken, OURO_PROJECT: "example", OURO_QUICK: process.env.OURO_EXAMPLE_FULL === "1" ? "0" : "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (c: Buffer) => out.push(c.toString()));
      child.stderr.on("data", (c: Buffer) => out.push(c.toString()));
      child.on("close", resolve);
    });
    const text = out.join("");
    // The walk-through's own output, to read after a run.
    await mkdir(path.join(root, "test-output"), { recursive: true });
    await writeFile(path.join(root, "test-output/examples-lifecycle.log"), text);
    expect(code, text).toBe(0);
    for (const heading of ["ingest and profile", "recipes", "feature set", "train and search", "register", "deploy", "monitor, simulated drift, alert", "retrain (pipeline), canary, promote"]) {
      expect(text).toContain(`== ${heading}`);
    }
    expect(text).toMatch(/drifted traffic: \d+ predictions → drift (potential_drift|detected)/);
    expect(text).toMatch(/promoted: penguin-species v\d+ serves penguins/);

    // What the walk-through left behind, read back through the SDK.
    const example = await ouro.projects.getByName("example");
    const model = await ouro.models.findByName(example.id, "penguin-species");
    const production = model && (await ouro.models.versionByAlias(model.id, "production"));
    expect(production?.version).toBe(model!.versions.length);
    const deployment = await ouro.deployments.findByName(example.id, "penguins");
    expect(deployment?.routes.flatMap((r) => r.modelVersionIds)).toContain(production!.id);
    // Acknowledged by the walk-through (it may have resolved since, when a later window measured less drift).
    expect((await ouro.alerts.list(example.id)).nodes.filter((a) => a.acknowledgedAt !== null).length).toBeGreaterThanOrEqual(1);
    const [monitor] = (await ouro.monitors.list(example.id)).nodes;
    // Monitor results as a stream that resumes: the same results as the page, then from a cursor on.
    const page = await ouro.monitors.results(monitor!.id, { first: 50 });
    expect(page.totalCount).toBeGreaterThanOrEqual(2);
    // The drifted window is at least potential drift; whether it crosses "detected" depends on
    // which 100 predictions fall in it (the scheduler may cut windows too), so both are accepted.
    expect(["potential_drift", "detected"]).toContain(page.nodes.at(-1)?.status);
    const streamed = [];
    for await (const r of ouro.monitors.updates(monitor!.id)) {
      streamed.push(r.cursor);
      if (streamed.length === page.nodes.length) break;
    }
    expect(streamed).toEqual(page.nodes.map((r) => r.cursor));
    const resumed = ouro.monitors.updates(monitor!.id, { after: page.nodes[0]!.cursor });
    expect((await resumed.next()).value?.cursor).toBe(page.nodes[1]!.cursor);
    resumed.close();
    const alertEvents = ouro.alerts.events(example.id);
    const states = [];
    for await (const e of alertEvents) {
      states.push(e.state);
      if (states.length === 2) break;
    }
    expect(states).toEqual(["firing", "acknowledged"]);
    const [pipeline] = (await ouro.pipelines.list(example.id)).nodes;
    const runs = (await ouro.pipelines.get(pipeline!.id)).runs.nodes;
    expect(runs[0]?.status).toBe("succeeded");
    expect(runs[0]?.steps.map((s) => s.stepId)).toEqual(["train", "evaluate", "register", "gate", "deploy"]);
  }, 600_000);
});
