/**
 * `npm run demo`: seeds a demo project into a running Ouro through the TypeScript SDK, so a new
 * user sees the lifecycle populated: two datasets with profiles, a fitted recipe, training runs
 * with metric curves, a registered model with a `production` alias, and a deployment with
 * predictions and their labels; and 3 million flights joined with airports as reference data,
 * aggregated by state and month. It starts nothing itself.
 *
 *   OURO_TOKEN=ouro_... npm run demo            # OURO_URL defaults to http://127.0.0.1:4000/graphql
 *   OURO_DEMO_PROJECT=my-demo npm run demo      # another project name (default "demo")
 *
 * Running it again reuses what is there: ingest is idempotent by content, training by its
 * idempotency key, and the recipe, model version and deployment are looked up by name first.
 */
import path from "node:path";
import { OuroApiError, OuroAuthError, OuroClient, OuroNetworkError, OuroNotFoundError, type Project } from "../client-sdk/src/index";
import { uploadPath } from "../client-sdk/src/node";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const PENGUIN_FEATURES = ["Island", "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"];

export interface DemoSummary {
  project: Project;
  datasets: { name: string; versionId: string; rows: number }[];
  recipeId: string;
  runs: { id: string; name: string; model: string; metrics: Record<string, number> }[];
  model: { id: string; name: string; versionId: string; version: number; alias: string };
  deployment: { id: string; name: string; endpoint: string; predictions: number; labels: number };
  flights: { versionId: string; airportsVersionId: string; recipeId: string; outputVersionId: string; groups: number };
}

/** Seeds (or tops up) the demo project; `log` gets one line per step. */
export async function seedDemo(ouro: OuroClient, options: { project?: string; log?: (line: string) => void } = {}): Promise<DemoSummary> {
  const log = options.log ?? (() => undefined);
  const projectName = options.project ?? "demo";
  const project = await ouro.projects.getByName(projectName).catch(async (err: unknown) => {
    if (!(err instanceof OuroNotFoundError)) throw err;
    return ouro.projects.create({ name: projectName, description: "Seeded by npm run demo: penguins and seattle-weather through the whole lifecycle" });
  });
  const projectId = project.id;
  log(`project ${project.name} (${projectId})`);

  // Datasets: uploaded from the local vega-datasets files, then profiled.
  const datasets: DemoSummary["datasets"] = [];
  for (const [name, file] of [["penguins", "penguins.json"], ["seattle-weather", "seattle-weather.csv"]] as const) {
    const ingest = await uploadPath(ouro, path.join(DATA, file), { projectId, dataset: name });
    const { versionId, created } = await ingest.result();
    const version = await ouro.datasets.version(versionId);
    datasets.push({ name, versionId, rows: version.rowCount });
    if ((await ouro.datasets.getProfile(versionId)) === null) await (await ouro.datasets.profile(versionId)).result();
    log(`dataset ${name}: version ${version.version}, ${version.rowCount} rows${created ? "" : " (already there)"}, profiled`);
  }
  const penguins = datasets[0]!;
  const flights = await flightsByState(ouro, projectId, log);

  // A recipe fitted on penguins: the same steps run in training and in serving.
  const recipes = await ouro.recipes.list(projectId, { first: 100 });
  let recipe = recipes.nodes.find((r) => r.name === "penguin-inputs");
  recipe ??= await ouro.recipes.create(projectId, "penguin-inputs", [
    { op: "drop", columns: ["Sex"] },
    { op: "fillNull", columns: PENGUIN_FEATURES.slice(1), strategy: "mean" },
    { op: "oneHot", column: "Island" },
  ]);
  if (recipe.fittedOnVersionId !== penguins.versionId) await (await ouro.recipes.fit(recipe.id, penguins.versionId)).result();
  log(`recipe ${recipe.name} fitted on penguins`);

  // Training runs: small models, so the demo takes a minute or two on a laptop.
  const specs = [
    { key: "demo-penguins-mlp", model: { kind: "mlp", layers: [16], epochs: 30 } },
    { key: "demo-penguins-logistic", model: { kind: "logistic", epochs: 30 } },
  ];
  const runs: DemoSummary["runs"] = [];
  for (const spec of specs) {
    const job = await ouro.models.train({
      projectId,
      experiment: "penguins-species",
      datasetVersionId: penguins.versionId,
      recipeId: recipe.id,
      target: "Species",
      task: "multiclass",
      model: spec.model,
      seed: 7,
      idempotencyKey: `${spec.key}-${penguins.versionId}`,
    });
    const result = await job.result({ onProgress: (j) => log(`  training ${spec.model.kind}: ${Math.round(j.progress * 100)}%`) });
    runs.push({ id: result.runId, name: job.runName, model: String(spec.model.kind), metrics: result.metrics });
    log(`run ${job.runName}: ${formatMetrics(result.metrics)}`);
  }
  // A run logged from "a notebook": the SDK's batched metrics.
  const existing = await ouro.runs.list(projectId, { experiment: "notebook", first: 1 });
  if (existing.totalCount === 0) {
    const run = await ouro.runs.start(projectId, "notebook", { name: "hand-logged-curve", tags: { source: "npm run demo" } });
    await run.logParams({ note: "a curve logged point by point from the SDK", points: 200 });
    for (let step = 0; step < 200; step++) run.logMetrics({ loss: 2 * Math.exp(-step / 40) + 0.05 * Math.sin(step / 5), accuracy: 1 - Math.exp(-step / 50) });
    await run.finish();
    log(`run hand-logged-curve: 400 points`);
  }

  // The better run (validation accuracy) becomes the production version of the model.
  const best = runs.reduce((a, b) => ((b.metrics.accuracy ?? 0) > (a.metrics.accuracy ?? 0) ? b : a));
  const modelName = "penguin-species";
  const model = await ouro.models.findByName(projectId, modelName);
  const version = model?.versions.find((v) => v.runId === best.id) ?? (await ouro.models.register({ runId: best.id, model: modelName, card: { description: "Penguin species from beak, flipper, mass and island", intendedUse: "The Ouro demo" } }));
  await ouro.models.setAlias(version.id, "production");
  log(`model ${modelName} v${version.version} (from ${best.model}) is production`);

  // A deployment serving it, with predictions and their true labels.
  const deploymentName = "penguins";
  let deployment = await ouro.deployments.findByName(projectId, deploymentName);
  if (!deployment) deployment = await ouro.deployments.deploy({ projectId, name: deploymentName, modelVersionId: version.id });
  else if (!deployment.routes.some((r) => r.modelVersionIds.includes(version.id))) {
    deployment = await ouro.deployments.setTraffic({ deploymentId: deployment.id, routes: [{ name: "primary", modelVersionIds: [version.id], weight: 1 }] });
  }
  const preview = await ouro.datasets.preview(penguins.versionId, { limit: 60, offset: 0 });
  const rows = preview.rows.filter((r) => r.Island !== null);
  const answer = await ouro.deployments.predict(deployment.id, rows.map(({ Species: _label, ...features }) => features), { projectId });
  const labels = await ouro.deployments.logLabels(deployment.id, answer.predictions.map((p, i) => ({ requestId: p.id, label: rows[i]!.Species })));
  const correct = answer.predictions.filter((p, i) => p.label === rows[i]!.Species).length;
  log(`deployment ${deployment.name}: ${answer.predictions.length} predictions (${correct} right), ${labels} labels at ${deployment.endpoint}`);

  return {
    project,
    datasets,
    recipeId: recipe.id,
    runs,
    model: { id: version.modelId, name: modelName, versionId: version.id, version: version.version, alias: "production" },
    deployment: { id: deployment.id, name: deployment.name, endpoint: deployment.endpoint, predictions: answer.predictions.length, labels },
    flights,
  };
}

/**
 * Data preparation at scale: flights-3m.parquet (3 million flights) joined with airports.csv
 * as reference data, hour and month derived, nulls filled, states one-hot encoded and the
 * whole aggregated by (state, month) — fitted and applied in one job.
 */
async function flightsByState(ouro: OuroClient, projectId: string, log: (line: string) => void): Promise<DemoSummary["flights"]> {
  const upload = async (dataset: string, file: string) => (await (await uploadPath(ouro, path.join(DATA, file), { projectId, dataset })).result()).versionId;
  const versionId = await upload("flights", "flights-3m.parquet");
  const airportsVersionId = await upload("airports", "airports.csv");
  const name = "flights-by-state";
  const existing = (await ouro.recipes.list(projectId, { first: 100 })).nodes.find((r) => r.name === name);
  const recipe =
    existing ??
    (await ouro.recipes.create(projectId, name, [
      { op: "join", with: airportsVersionId, on: { left: "origin", right: "iata" }, columns: ["state"] },
      { op: "dateParts", column: "date", parts: ["month", "hour"] },
      { op: "fillNull", columns: ["state"], strategy: "constant", value: "unknown" },
      { op: "fillNull", columns: ["delay"], strategy: "mean" },
      { op: "oneHot", column: "state", maxCategories: 60, dropOriginal: false },
      { op: "groupBy", by: ["state", "date_month"], aggs: [{ column: "delay", fn: "count", as: "flights" }, { column: "delay", fn: "mean" }, { column: "date_hour", fn: "mean" }, { column: "state_CA", fn: "max" }] },
    ]));
  // Fitting and applying in one job is idempotent by content: a rerun lands on the same version.
  const started = Date.now();
  const fit = await (await ouro.recipes.fit(recipe.id, versionId, { outputDataset: name })).result();
  const output = await ouro.datasets.version(fit.versionId as string);
  log(`recipe ${name}: 3,000,000 flights joined with airports → ${output.rowCount} (state, month) rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { versionId, airportsVersionId, recipeId: recipe.id, outputVersionId: output.id, groups: output.rowCount };
}

function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics).filter(([, v]) => typeof v === "number").slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ");
}

async function main(): Promise<number> {
  const url = process.env.OURO_URL || "http://127.0.0.1:4000/graphql";
  const token = process.env.OURO_TOKEN;
  if (!token) {
    console.error("npm run demo needs an API token: OURO_TOKEN=ouro_... npm run demo (the server prints its first admin token when it starts the first time; or create one with `npm run ouro -- token create --email you@example.com`). OURO_URL defaults to http://127.0.0.1:4000/graphql.");
    return 2;
  }
  const ouro = new OuroClient({ url, token, maxRetries: 2 });
  const started = Date.now();
  try {
    const viewer = await ouro.viewer();
    console.log(`seeding the demo into ${url} as ${viewer.email}`);
    const summary = await seedDemo(ouro, { project: process.env.OURO_DEMO_PROJECT || "demo", log: (line) => console.log(line) });
    console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(0)} s: project "${summary.project.name}" (${summary.project.id})`);
    console.log(`  datasets:   ${summary.datasets.map((d) => `${d.name} (${d.rows} rows)`).join(", ")}`);
    console.log(`  runs:       ${summary.runs.map((r) => r.name).join(", ")}, hand-logged-curve`);
    console.log(`  model:      ${summary.model.name} v${summary.model.version} @${summary.model.alias}`);
    console.log(`  deployment: ${summary.deployment.name} → ${summary.deployment.endpoint}`);
    return 0;
  } catch (err) {
    if (err instanceof OuroAuthError) console.error(`the server at ${url} refused the token: ${err.message}`);
    else if (err instanceof OuroNetworkError) console.error(`${err.message}\nIs Ouro running there? Start it with \`npm start\`, or point OURO_URL at it.`);
    else if (err instanceof OuroApiError) console.error(`Ouro refused a step (${err.code}, request ${err.requestId ?? "?"}): ${err.message}`);
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
