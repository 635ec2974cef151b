/**
 * The whole model lifecycle through the TypeScript SDK, on two real datasets:
 *
 *   penguins        ingest → profile → recipe → train → hyperparameter search → register →
 *                   deploy → simulated drifted traffic → monitor → alert → retrain (pipeline)
 *                   → canary → promote
 *   seattle-weather ingest → profile → recipe → feature set (offline + online) →
 *                   point-in-time training set → train
 *
 * Run it against a running Ouro (see examples/README.md):
 *
 *   OURO_URL=http://127.0.0.1:4000/graphql OURO_TOKEN=ouro_... \
 *     PATH=/path/to/node24/bin:$PATH node -r @swc-node/register examples/lifecycle.ts
 *
 * OURO_PROJECT names the project (default "lifecycle-example"); it is created on first use
 * and reused afterwards. OURO_QUICK=1 uses fewer epochs and trials (for CI).
 */
import path from "node:path";
import { OuroApiError, OuroClient, OuroNetworkError, OuroNotFoundError, type Deployment, type JobHandle, type ModelVersion, type Project, type TypedJob } from "../client-sdk/src/index";
import { uploadPath } from "../client-sdk/src/node";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

export interface LifecycleOptions {
  project?: string;
  /** Fewer epochs and trials: a couple of minutes on a laptop instead of several. */
  quick?: boolean;
  log?: (line: string) => void;
}

export interface LifecycleSummary {
  projectId: string;
  penguinsVersionId: string;
  weatherTrainingSetId: string;
  productionVersion: ModelVersion;
  deployment: Deployment;
  driftStatus: string | null;
  alertsFired: number;
  retrainedVersionId: string | null;
}

export async function runLifecycle(ouro: OuroClient, options: LifecycleOptions = {}): Promise<LifecycleSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const quick = options.quick ?? false;
  const step = (title: string) => log(`\n== ${title}`);
  const wait = async <R>(what: string, handle: JobHandle<R>): Promise<R> => {
    let shown = -1;
    const done: TypedJob<R> = await handle.wait({
      onProgress: (j) => {
        const pct = Math.floor(j.progress * 10) * 10;
        if (pct !== shown && j.status === "running") log(`   ${what}: ${pct}%`);
        shown = pct;
      },
    });
    return done.result as R;
  };

  // ---------------------------------------------------------------- project
  const projectName = options.project ?? "lifecycle-example";
  const project: Project = await ouro.projects.getByName(projectName).catch((err: unknown) => {
    if (err instanceof OuroNotFoundError) return ouro.projects.create({ name: projectName, description: "The lifecycle walk-through of examples/lifecycle.ts" });
    throw err;
  });
  const projectId = project.id;
  log(`project ${project.name} (${projectId})`);

  // ---------------------------------------------------------------- ingest + profile
  step("ingest and profile");
  const penguinsIngest = await wait("penguins ingest", await uploadPath(ouro, path.join(DATA, "penguins.json"), { projectId, dataset: "penguins" }));
  const weatherIngest = await wait("weather ingest", await uploadPath(ouro, path.join(DATA, "seattle-weather.csv"), { projectId, dataset: "seattle-weather" }));
  const penguinsV = penguinsIngest.versionId;
  const weatherV = weatherIngest.versionId;
  log(`penguins: version ${penguinsV} (${penguinsIngest.rowCount} rows); seattle-weather: version ${weatherV} (${weatherIngest.rowCount} rows)`);

  const quality = await wait("profile", await ouro.datasets.profile(penguinsV, [
    { kind: "allowedSet", column: "Species", values: ["Adelie", "Chinstrap", "Gentoo"] },
    { kind: "range", column: "Body Mass (g)", min: 2000, max: 7000 },
    { kind: "notNull", column: "Sex" },
  ]));
  await wait("profile", await ouro.datasets.profile(weatherV));
  const profile = (await ouro.datasets.getProfile(penguinsV)) as { columns: { name: string; nulls: number; numeric?: { mean?: number } }[] };
  for (const c of profile.columns) log(`   ${c.name.padEnd(22)} nulls ${String(c.nulls).padStart(3)}${c.numeric?.mean !== undefined ? `  mean ${c.numeric.mean.toFixed(1)}` : ""}`);
  log(`expectations passed: ${quality.qualityPassed} (Sex has nulls, so notNull fails on purpose)`);
  const preview = await ouro.datasets.preview(weatherV, { limit: 3 });
  log(`seattle-weather columns: ${preview.columns.join(", ")}`);

  // ---------------------------------------------------------------- recipes
  step("recipes");
  const recipes = (await ouro.recipes.list(projectId, { first: 100 })).nodes;
  const penguinRecipe =
    recipes.find((r) => r.name === "penguin-inputs") ??
    (await ouro.recipes.create(projectId, "penguin-inputs", [
      { op: "drop", columns: ["Sex"] },
      { op: "fillNull", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"], strategy: "mean" },
      { op: "standardize", columns: ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"] },
      { op: "oneHot", column: "Island" },
    ]));
  const fit = await wait("fit penguin-inputs", await ouro.recipes.fit(penguinRecipe.id, penguinsV));
  log(`penguin-inputs fitted: ${fit.columns} columns out; one row through it: ${JSON.stringify(await ouro.recipes.transformRow(penguinRecipe.id, (await ouro.datasets.preview(penguinsV, { limit: 1 })).rows[0]!))}`);

  // The weather data gets an entity column (one city) so it can feed a feature set.
  const weatherRecipe =
    recipes.find((r) => r.name === "weather-daily") ??
    (await ouro.recipes.create(projectId, "weather-daily", [
      { op: "cast", column: "date", to: "datetime" },
      { op: "derive", column: "city", expr: { lit: "seattle" } },
    ]));
  const daily = await wait("weather-daily", await ouro.recipes.fit(weatherRecipe.id, weatherV, { outputDataset: "weather-daily" }));
  log(`weather-daily: version ${daily.versionId}`);

  // ---------------------------------------------------------------- feature set + training set
  step("feature set and point-in-time training set (seattle-weather)");
  const featureSets = (await ouro.featureSets.list(projectId, { first: 100 })).nodes;
  const dailyDataset = await ouro.datasets.findByName(projectId, "weather-daily");
  const weatherFs =
    featureSets.find((f) => f.name === "wx") ??
    (await ouro.featureSets.create({ projectId, name: "wx", sourceDatasetId: dailyDataset!.id, entityKeys: ["city"], timestampColumn: "date", features: ["precipitation", "temp_max", "temp_min", "wind"] }));
  const materialized = await wait("materialize", await ouro.featureSets.materialize(weatherFs.id));
  log(`materialized ${materialized.rows} rows for ${materialized.entities} entity; online now: ${JSON.stringify((await ouro.featureSets.online(weatherFs.id, ["seattle"]))[0]?.values)}`);
  const trainingSet = await wait("training set", await ouro.featureSets.buildTrainingSet({ featureSetIds: [weatherFs.id], spineVersionId: daily.versionId!, spineTime: "date", outputDataset: "weather-training" }));
  const tsVersion = await ouro.datasets.version(trainingSet.versionId);
  const joined = tsVersion.schema.map((c) => c.name).filter((n) => n.startsWith("wx__"));
  log(`weather-training: ${tsVersion.rowCount} rows, features joined as of each day: ${joined.join(", ")}`);
  const weatherJob = await ouro.models.train({ projectId, experiment: "weather", datasetVersionId: trainingSet.versionId, target: "weather", task: "multiclass", features: joined, model: { kind: "logistic", epochs: quick ? 10 : 40 } });
  const weatherModel = await wait("train weather", weatherJob);
  log(`weather model (run ${weatherModel.runId}): ${fmt(weatherModel.metrics)}`);

  // ---------------------------------------------------------------- train + search (penguins)
  step("train and search (penguins)");
  const baseline = await ouro.models.train({ projectId, experiment: "penguins", datasetVersionId: penguinsV, recipeId: penguinRecipe.id, target: "Species", task: "multiclass", model: { kind: "mlp", layers: [16], epochs: quick ? 15 : 60 }, seed: 1 });
  // The run exists as soon as the job does: follow its loss live while it trains.
  const curve = ouro.runs.metrics(baseline.runId!, { keys: ["val_loss"] });
  void (async () => {
    for await (const p of curve) if (p.step % 5 === 0) log(`   baseline epoch ${p.step}: val_loss ${p.value.toFixed(4)}`);
  })().catch(() => undefined);
  const base = await wait("train baseline", baseline);
  curve.close();
  log(`baseline run ${base.runId}: ${fmt(base.metrics)}`);

  const search = await wait("search", await ouro.models.search(
    { projectId, experiment: "penguins-search", datasetVersionId: penguinsV, recipeId: penguinRecipe.id, target: "Species", task: "multiclass", model: { kind: "mlp", epochs: quick ? 10 : 40 }, seed: 2 },
    {
      strategy: "random",
      trials: quick ? 3 : 8,
      maxConcurrent: 2,
      metric: "val_loss",
      space: [
        { name: "learningRate", min: 0.002, max: 0.05, log: true },
        { name: "layers", values: [[8], [16], [32, 16]] },
      ],
    },
  ));
  for (const trial of search.trials) log(`   trial ${trial.index}: ${trial.status} val_loss ${trial.score?.toFixed(4) ?? "-"}`);
  log(`best trial ${search.bestTrial} (run ${search.bestRunId}): ${JSON.stringify(search.bestModel)}`);

  // ---------------------------------------------------------------- register
  step("register");
  const model = "penguin-species";
  const existing = await ouro.models.findByName(projectId, model);
  const registerOnce = async (runId: string, description: string) => existing?.versions.find((v) => v.runId === runId) ?? ouro.models.register({ runId, model, card: { description } });
  const v1 = await registerOnce(base.runId, "MLP baseline");
  const v2 = search.bestRunId ? await registerOnce(search.bestRunId, "best of the hyperparameter search") : v1;
  const [a, b] = await ouro.models.compare([v1.id, v2.id]);
  log(`v${a!.version} accuracy ${num(a!.metrics.accuracy)} vs v${b!.version} accuracy ${num(b!.metrics.accuracy)}`);
  const production = num(b!.metrics.accuracy) >= num(a!.metrics.accuracy) ? b! : a!;
  await ouro.models.setAlias(production.id, "production");
  log(`${model} v${production.version} is production`);

  // ---------------------------------------------------------------- deploy
  step("deploy");
  let deployment = (await ouro.deployments.findByName(projectId, "penguins")) ?? (await ouro.deployments.deploy({ projectId, name: "penguins", modelVersionId: production.id }));
  if (!deployment.routes.some((r) => r.modelVersionIds.includes(production.id))) {
    deployment = await ouro.deployments.setTraffic({ deploymentId: deployment.id, routes: [{ name: "primary", modelVersionIds: [production.id], weight: 1 }] });
  }
  const answer = await ouro.deployments.predict(deployment.id, { Island: "Biscoe", "Beak Length (mm)": 45.1, "Beak Depth (mm)": 14.5, "Flipper Length (mm)": 215, "Body Mass (g)": 5000, Sex: "FEMALE" }, { projectId });
  log(`POST ${deployment.endpoint} → ${answer.predictions[0]!.label} ${JSON.stringify(answer.predictions[0]!.probabilities)}`);

  // ---------------------------------------------------------------- monitor + drift + alert
  step("monitor, simulated drift, alert");
  const monitors = (await ouro.monitors.list(projectId, { first: 100 })).nodes;
  const monitor = monitors.find((m) => m.name === "penguins-drift") ?? (await ouro.monitors.create({ deploymentId: deployment.id, name: "penguins-drift", kinds: ["data_drift", "prediction_drift", "performance"], window: { predictions: 100 }, target: "Species" }));
  const monitorDetails = await ouro.monitors.get(monitor.id);
  if (monitorDetails.alertRules.length === 0) await ouro.alerts.createRule({ monitorId: monitor.id, name: "drift detected", metric: "status", threshold: 2, severity: "warning" });

  const clean = await wait("clean traffic", await ouro.deployments.simulate({ deploymentId: deployment.id, datasetVersionId: penguinsV, rows: 100, rate: 200, batchSize: 10, labelColumn: "Species", labelDelaySeconds: 0.2, seed: 1 }));
  await wait("monitor", await ouro.monitors.runNow(monitor.id));
  let latest = (await ouro.monitors.get(monitor.id)).latestResult;
  log(`clean traffic: ${clean.predicted} predictions, ${clean.labelled} labels → drift ${latest?.status} (score ${num(latest?.driftScore)})`);

  const drifted = await wait("drifted traffic", await ouro.deployments.simulate({
    deploymentId: deployment.id,
    datasetVersionId: penguinsV,
    rows: 100,
    rate: 200,
    batchSize: 10,
    labelColumn: "Species",
    labelDelaySeconds: 0.2,
    seed: 2,
    drift: { shift: { "Body Mass (g)": 1500 }, scale: { "Flipper Length (mm)": 1.2 }, categoryMix: { Island: { Dream: 1 } }, flipLabels: 0.3 },
  }));
  await wait("monitor", await ouro.monitors.runNow(monitor.id));
  latest = (await ouro.monitors.get(monitor.id)).latestResult;
  log(`drifted traffic: ${drifted.predicted} predictions → drift ${latest?.status} (score ${num(latest?.driftScore)})`);
  for (const f of latest?.features ?? []) log(`   ${f.name.padEnd(22)} ${f.status.padEnd(16)} ${num(f.score).toFixed(3)}`);
  if (latest?.performance) log(`   live performance: ${fmt(latest.performance as Record<string, number>)}`);
  const firing = (await ouro.alerts.list(projectId, { state: "firing" })).nodes;
  for (const alert of firing) {
    log(`ALERT ${alert.severity}: ${alert.message}`);
    await ouro.alerts.acknowledge(alert.id);
  }

  // ---------------------------------------------------------------- retrain + canary + promote
  step("retrain (pipeline), canary, promote");
  const pipelines = (await ouro.pipelines.list(projectId, { first: 100 })).nodes;
  const spec = {
    steps: [
      { id: "train", kind: "train", params: { datasetVersionId: penguinsV, recipeId: penguinRecipe.id, target: "Species", task: "multiclass", model: search.bestModel ?? { kind: "mlp", layers: [16] }, seed: 3 } },
      { id: "evaluate", kind: "evaluate", params: { runId: "${train.runId}", datasetVersionId: penguinsV } },
      { id: "register", kind: "register", params: { runId: "${train.runId}", model }, after: ["evaluate"] },
      { id: "gate", kind: "gate", params: { metric: "accuracy", modelVersionId: "${register.modelVersionId}", threshold: 0.8 } },
      { id: "deploy", kind: "deploy", params: { modelVersionId: "${register.modelVersionId}", name: deployment.name, canary: { weight: 0.25, mode: "manual" } }, after: ["gate"] },
    ],
  };
  const pipeline = pipelines.find((p) => p.name === "penguins-retrain") ?? (await ouro.pipelines.create({ projectId, name: "penguins-retrain", spec, triggers: [{ kind: "manual" }] })).pipeline;
  const run = await ouro.pipelines.run(pipeline.id, { force: true });
  const finished = await ouro.pipelines.waitRun(run.id, {
    onProgress: (r) => log(`   pipeline ${r.status}: ${r.steps.map((s) => `${s.stepId}=${s.status}`).join(" ")}`),
  });
  const registered = finished.steps.find((s) => s.stepId === "register")?.outputs as { modelVersionId?: string } | null;
  const retrainedVersionId = registered?.modelVersionId ?? null;
  deployment = await ouro.deployments.get(deployment.id);
  log(`canary: ${deployment.rollout?.status} at weight ${deployment.rollout?.canaryWeight}`);
  if (deployment.rollout?.status === "running" || deployment.rollout?.status === "canary") deployment = await ouro.deployments.rollout.approve(deployment.id);
  if (retrainedVersionId) await ouro.models.setAlias(retrainedVersionId, "production");
  const productionVersion = retrainedVersionId ? await ouro.models.version(retrainedVersionId) : production;
  log(`promoted: ${model} v${productionVersion.version} serves ${deployment.name} (revision ${deployment.revision}) and is production`);

  const stats = await ouro.deployments.statsNow(deployment.id, 3600);
  log(`\nlast hour on ${deployment.name}: ${stats.rows} predictions, ${stats.labelled} labelled, p50 ${num(stats.p50Ms).toFixed(1)} ms`);

  return {
    projectId,
    penguinsVersionId: penguinsV,
    weatherTrainingSetId: trainingSet.versionId,
    productionVersion,
    deployment,
    driftStatus: latest?.status ?? null,
    alertsFired: firing.length,
    retrainedVersionId,
  };
}

function num(v: unknown): number {
  return typeof v === "number" && Number.isFinite(v) ? v : Number.NaN;
}

function fmt(metrics: Record<string, unknown>): string {
  return Object.entries(metrics).filter(([, v]) => typeof v === "number").slice(0, 5).map(([k, v]) => `${k} ${(v as number).toFixed(3)}`).join(", ");
}

async function main(): Promise<number> {
  const url = process.env.OURO_URL || "http://127.0.0.1:4000/graphql";
  const token = process.env.OURO_TOKEN;
  if (!token) {
    console.error("set OURO_TOKEN (and OURO_URL, default http://127.0.0.1:4000/graphql); see examples/README.md");
    return 2;
  }
  const ouro = new OuroClient({ url, token });
  try {
    await runLifecycle(ouro, { project: process.env.OURO_PROJECT || undefined, quick: process.env.OURO_QUICK === "1" });
    return 0;
  } catch (err) {
    if (err instanceof OuroApiError) console.error(`\n${err.name} ${err.code} (request ${err.requestId ?? "?"}): ${err.message}`);
    else if (err instanceof OuroNetworkError) console.error(`\n${err.message}`);
    else console.error(err);
    return 1;
  } finally {
    await ouro.close();
  }
}

if (typeof require !== "undefined" && require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
