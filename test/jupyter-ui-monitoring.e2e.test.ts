import { readFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DATA, UiSession } from "./helpers/jupyter";
import { createProject, newUserToken, waitForJob } from "./helpers/ouro";

/**
 * The monitor, alert, pipeline and feature-set views in a real JupyterLab, against a real Ouro
 * (embedded PostgreSQL + worker). Seeded through the API with real data: seattle-weather trains
 * a model that is deployed; simulated traffic (clean, then with injected drift) goes through
 * the endpoint; a monitor with 50-prediction windows measures it and an alert rule fires.
 * Screenshots: test-output/ui-monitoring/.
 */
const s = new UiSession("ui-monitoring");
const FEATURES = ["precipitation", "temp_max", "temp_min", "wind"];
const HOT = { shift: { temp_max: 15, temp_min: 15 }, scale: { wind: 3 } };

let projectId: string;
let versionId: string;
let deploymentId: string;
let monitorId: string;
let pipelineId: string;
let featureSetId: string;
let eventSetId: string;

async function mutate(query: string, variables: Record<string, unknown>): Promise<any> {
  return Object.values(await s.gql(query, variables))[0];
}
async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
async function job(query: string, variables: Record<string, unknown>): Promise<any> {
  const done = await waitForJob(s.t, (await mutate(query, variables)).id, 120_000);
  expect(done.status, done.error).toBe("succeeded");
  return done.result;
}
/** Sends `rows` rows of seattle-weather through the deployment's endpoint (drifted if asked), with labels. */
const simulate = (rows: number, seed: number, drift?: Record<string, unknown>) =>
  job(`mutation($i: SimulateTrafficInput!) { simulateTraffic(input: $i) { id } }`, {
    i: { deploymentId, datasetVersionId: versionId, rows, rate: 400, batchSize: 10, labelColumn: "weather", seed, drift },
  });
const windows = async (id: string): Promise<number> => (await s.gql(`query($m: ID!) { monitor(id: $m) { results(first: 1) { totalCount } } }`, { m: id })).monitor.results.totalCount;
const monitorAlerts = async () =>
  (await s.gql(`query($p: ID!) { alerts(projectId: $p) { nodes { id state monitorId acknowledgedAt } } }`, { p: projectId })).alerts.nodes.filter((a: { monitorId: string }) => a.monitorId === monitorId);

beforeAll(async () => {
  await s.startOuro({ OURO_MONITOR_SCHEDULER_SECONDS: "1", OURO_PIPELINE_TICK_MS: "200" });
  projectId = await createProject(s.t, "monitoring-ui");
  versionId = (await job(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "weather", source: { path: path.join(DATA, "seattle-weather.csv") } } })).versionId;
  await job(`mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: versionId });
  const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "weather-inputs", steps: $s) { id } }`, {
    p: projectId,
    s: [{ op: "drop", columns: ["date"] }, { op: "fillNull", columns: FEATURES, strategy: "mean" }],
  });
  await job(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: versionId });
  const trained = await job(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
    i: { projectId, datasetVersionId: versionId, recipeId: recipe.id, target: "weather", task: "multiclass", model: { kind: "logistic", epochs: 5 }, seed: 3 },
  });
  const mv = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "weather" }) { id } }`, { r: trained.runId });
  deploymentId = (await mutate(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name: "weather", modelVersionId: mv.id } })).id;

  // The monitor: every kind, a window per 50 predictions; an alert when drift is detected.
  monitorId = (await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`, {
    i: { deploymentId, name: "weather-drift", kinds: ["data_drift", "prediction_drift", "performance", "data_quality"], window: { predictions: 50 }, features: FEATURES, target: "weather", referenceVersionId: versionId },
  })).id;
  await mutate(`mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }`, { i: { monitorId, name: "drift detected", metric: "status", threshold: 2, severity: "critical" } });
  await simulate(100, 1);
  await simulate(100, 2, HOT);
  await until("4 monitor windows", async () => (await windows(monitorId)) >= 4);
  await until("a firing alert", async () => (await monitorAlerts()).some((a: { state: string }) => a.state === "firing"));

  // A pipeline of three steps in two layers: refit the recipe, then apply it; materialize beside them.
  const airportsVersion = (await job(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "airports", source: { path: path.join(DATA, "airports.csv") } } })).versionId;
  const airports = (await s.gql(`query($v: ID!) { datasetVersion(id: $v) { datasetId } }`, { v: airportsVersion })).datasetVersion.datasetId;
  featureSetId = (await mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, {
    i: { projectId, name: "airports", sourceDatasetId: airports, entityKeys: ["iata"], features: ["state", "latitude", "longitude"] },
  })).id;
  await job(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: featureSetId });
  pipelineId = (await mutate(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { pipeline { id } } }`, {
    i: {
      projectId,
      name: "refresh-weather",
      spec: {
        steps: [
          { id: "fit", kind: "fitRecipe", params: { recipeId: recipe.id, versionId } },
          { id: "apply", kind: "applyRecipe", params: { recipeId: recipe.id, versionId, outputDataset: "weather-clean" }, after: ["fit"] },
          { id: "airports", kind: "materialize", params: { featureSetId } },
        ],
      },
      triggers: [{ kind: "manual" }, { kind: "cron", schedule: "0 3 * * *" }],
    },
  })).pipeline.id;

  // An event feature set: sliding windows over weather events (one a day's row, 7 minutes apart).
  eventSetId = (await mutate(`mutation($i: CreateEventFeatureSetInput!) { createEventFeatureSet(input: $i) { featureSetId } }`, {
    i: {
      projectId,
      name: "weather_events",
      entityKeys: ["weather"],
      eventTimeColumn: "ts",
      eventIdColumn: "id",
      fields: [{ name: "weather", type: "string" }, { name: "wind", type: "float" }],
      aggregations: [
        { name: "events_1h", function: "count", window: "1h" },
        { name: "wind_max_1d", function: "max", field: "wind", window: "1d" },
      ],
      allowedLatenessSeconds: 30 * 86_400,
    },
  })).featureSetId;
  const [, ...lines] = readFileSync(path.join(DATA, "seattle-weather.csv"), "utf8").trim().split("\n");
  const base = Date.now() - 2 * 86_400_000;
  const events = lines.slice(0, 200).map((line, i) => {
    const [date, , , , wind, weather] = line.split(",");
    return { id: `w-${date}`, ts: new Date(base + i * 7 * 60_000).toISOString(), weather, wind: Number(wind) };
  });
  const ingested = await mutate(`mutation($f: ID!, $e: [JSON!]!) { ingestEvents(featureSetId: $f, events: $e) { accepted } }`, { f: eventSetId, e: events });
  expect(ingested.accepted).toBe(200);

  await s.openLab("monitoring-ui");
  // The lab opens ui.ipynb by itself; let it settle first, or it takes the front over the first view.
  await s.page.locator(".jp-NotebookPanel").first().waitFor({ timeout: 60_000 });
}, 600_000);
afterAll(() => s.stop(), 60_000);
afterEach((ctx) => s.shotIfFailed(ctx));

describe("monitoring views", () => {
  it("the monitor view charts each feature's drift over ≥ 2 windows, and a new window appears live", async () => {
    await s.treeNode("monitor", monitorId).click();
    const view = s.panel("monitor", monitorId);
    const stored = await windows(monitorId);
    await until("the stored windows in the view", async () => Number(await view.getAttribute("data-ouro-windows")) === stored, 30_000);
    expect(stored).toBeGreaterThanOrEqual(4);
    // One line per feature (plus the two threshold lines), one point per window and feature.
    const drift = view.locator('.ouro-chart[data-ouro-metric="drift score per feature"]');
    expect((await drift.getAttribute("data-ouro-features"))!.split(",").sort()).toEqual([...FEATURES].sort());
    await until("the drift lines drawn", async () => Number(await drift.getAttribute("data-ouro-points")) === stored * (FEATURES.length + 2), 10_000);
    expect(await drift.locator("canvas").count()).toBe(1);
    await drift.getByText("detected ≥ 0.7").first().waitFor(); // the status thresholds are in the legend
    expect(await view.locator('.ouro-chart[data-ouro-metric="prediction drift score"]').count()).toBe(1);
    const perf = view.locator('.ouro-chart[data-ouro-metric="live performance"]');
    expect(Number(await perf.getAttribute("data-ouro-points"))).toBeGreaterThan(0);
    // The last window's per-feature table agrees with the server.
    const latest = (await s.gql(`query($m: ID!) { monitor(id: $m) { latestResult { status features { name status } quality } } }`, { m: monitorId })).monitor.latestResult;
    const rows = await view.locator(".ouro-drift-table tbody tr").allInnerTexts();
    for (const f of latest.features) expect(rows.find((r) => r.startsWith(f.name))).toContain(f.status);
    expect(await view.locator(".ouro-monitor-quality").innerText()).toMatch(/rows · schema violations/);
    await s.shot("monitor-view");

    // More drifted traffic while the view is open: a new window arrives through monitorUpdates.
    await simulate(50, 3, HOT);
    await until("a new window on the server", async () => (await windows(monitorId)) === stored + 1, 60_000);
    await until("the new window in the open view", async () => Number(await view.getAttribute("data-ouro-windows")) === stored + 1, 30_000);
    await until("its points drawn", async () => Number(await drift.getAttribute("data-ouro-points")) === (stored + 1) * (FEATURES.length + 2), 10_000);
    await s.shot("monitor-view-new-window");

    // "Run now…" evaluates the latest 50 predictions on demand: one more window, on the server and in the view.
    await view.locator('.ouro-panel-header [data-ouro-action="run-monitor"]').click();
    await s.confirm();
    await until("the on-demand window on the server", async () => (await windows(monitorId)) === stored + 2, 60_000);
    await until("the on-demand window in the view", async () => Number(await view.getAttribute("data-ouro-windows")) === stored + 2, 30_000);
  }, 180_000);

  it("acknowledges the monitor's firing alert after confirmation, and the alert view shows its states and history", async () => {
    await s.treeNode("monitor", monitorId).click(); // brings its tab to the front
    const view = s.panel("monitor", monitorId);
    const [firing] = (await monitorAlerts()).filter((a: { state: string }) => a.state === "firing");
    expect(firing).toBeTruthy();
    // alert(id), which the alert view reads: someone outside the project gets NOT_FOUND, not the alert.
    const outsider = await newUserToken(s.t, "outsider@example.com");
    const hidden = await s.t.gql(`query($a: ID!) { alert(id: $a) { id message } }`, { a: firing.id }, outsider);
    expect(hidden.data).toBeNull();
    expect(hidden.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect(hidden.errors?.[0].message).not.toContain("weather-drift");
    const missing = await s.t.gql(`query { alert(id: "00000000-0000-4000-8000-000000000000") { id } }`, {}, s.t.adminToken);
    expect(missing.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    const malformed = await s.t.gql(`query { alert(id: "not-an-id'; --") { id } }`, {}, s.t.adminToken);
    expect(malformed.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(malformed.errors?.[0].message).toMatch(/invalid format/);
    const actions = view.locator(`[data-ouro-alert="${firing.id}"]`);
    // Cancelling the dialog changes nothing.
    await actions.locator('[data-ouro-action="ack-alert"]').click();
    const dialog = s.page.locator(".jp-Dialog");
    await dialog.waitFor();
    expect(await dialog.innerText()).toMatch(/Acknowledge alert\?/);
    await dialog.locator(".jp-mod-reject").click();
    await dialog.waitFor({ state: "detached" });
    expect((await monitorAlerts()).find((a: { id: string }) => a.id === firing.id).state).toBe("firing");

    await actions.locator('[data-ouro-action="ack-alert"]').click();
    await s.shot("ack-confirmation");
    await s.confirm();
    const acked = await until("the server to say acknowledged", async () => (await monitorAlerts()).find((a: { id: string; state: string }) => a.id === firing.id && a.state === "acknowledged"), 15_000);
    expect(acked.acknowledgedAt).toBeTruthy();
    await actions.locator('[data-ouro-action="ack-alert"]').waitFor({ state: "detached", timeout: 15_000 });

    await actions.locator('[data-ouro-action="open-alert"]').click();
    const alertView = s.panel("alert", firing.id);
    await until("the alert view to show acknowledged", async () => (await alertView.getAttribute("data-ouro-alert-state")) === "acknowledged", 30_000);
    const history = alertView.locator(".ouro-history tbody tr");
    await until("firing and acknowledged in the history", async () => (await history.count()) >= 2, 30_000);
    const states = await history.locator(".ouro-badge").allInnerTexts();
    expect(states.slice(0, 2)).toEqual(["firing", "acknowledged"]);
    expect(await alertView.locator('.ouro-step-done[data-ouro-state="acknowledged"]').count()).toBe(1);
    expect(await alertView.locator(".ouro-panel-header").innerText()).toMatch(/status ≥ 2 for 1 window/);
    await s.shot("alert-view");
  }, 90_000);

  it("runs a pipeline after confirmation and shows the run's step statuses as the server has them", async () => {
    await s.treeNode("pipeline", pipelineId).locator(".ouro-node-label").click();
    const view = s.panel("pipeline", pipelineId);
    await view.locator('.ouro-dag[data-ouro-steps="3"]').waitFor({ timeout: 30_000 });
    expect(await view.locator(".ouro-dag-layer").count()).toBe(2);
    expect(await view.locator(".ouro-triggers li").allInnerTexts()).toEqual(["manual", "cron 0 3 * * *"]);
    const runs = async () => (await s.gql(`query($p: ID!) { pipeline(id: $p) { runs(first: 5) { totalCount nodes { id status steps { stepId status } } } } }`, { p: pipelineId })).pipeline.runs;
    expect((await runs()).totalCount).toBe(0);

    await view.locator('.ouro-panel-header [data-ouro-action="run-pipeline"]').click();
    await s.confirm();
    const run = await until("a pipeline run on the server", async () => (await runs()).nodes[0]);
    const row = view.locator(`tr[data-ouro-run="${run.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    const finished = await until("the run to finish", async () => {
      const r = (await runs()).nodes[0];
      return ["succeeded", "failed", "cancelled"].includes(r.status) && r;
    }, 120_000);
    expect(finished.status).toBe("succeeded");
    // The view got there live: the run's badge and every step's badge say what the server says.
    await row.locator(`.ouro-badge[data-ouro-status="${finished.status}"]`).first().waitFor({ timeout: 30_000 });
    for (const step of finished.steps) await row.locator(`[data-ouro-step="${step.stepId}"][data-ouro-status="${step.status}"]`).waitFor({ timeout: 15_000 });
    await s.shot("pipeline-view");
  }, 180_000);

  it("the feature-set view looks up an entity online and shows what onlineFeatures answers", async () => {
    await s.treeNode("featureSet", featureSetId).click();
    const view = s.panel("featureSet", featureSetId);
    await view.locator(".ouro-lookup-key").waitFor({ timeout: 30_000 });
    expect(await view.locator(".ouro-panel-header").innerText()).toMatch(/entity key iata/);
    await view.locator(".ouro-lookup-key").fill("SEA");
    await view.locator('[data-ouro-action="lookup"]').click();
    const result = view.locator(".ouro-lookup-result");
    await until("the lookup", async () => (await result.getAttribute("data-ouro-lookup")) !== null, 15_000);
    const api = (await s.gql(`query($f: ID!) { onlineFeatures(featureSetId: $f, keys: ["SEA"]) { key values } }`, { f: featureSetId })).onlineFeatures[0];
    expect(api.values).toMatchObject({ state: "WA" });
    expect(JSON.parse((await result.getAttribute("data-ouro-lookup"))!)).toEqual(api.values);
    await s.shot("feature-set-lookup");
    // An unknown key says so.
    await view.locator(".ouro-lookup-key").fill("NOPE-404");
    await view.locator('[data-ouro-action="lookup"]').click();
    await result.locator('[data-ouro-lookup="unknown"]').waitFor({ timeout: 15_000 });

    // The event-fed set: its windows, and a lookup of a live window feature.
    await s.treeNode("featureSet", eventSetId).click();
    const events = s.panel("featureSet", eventSetId);
    await events.locator(".ouro-windows").waitFor({ timeout: 30_000 });
    expect(await events.locator(".ouro-windows tbody tr").allInnerTexts()).toEqual(["events_1h\tcount\t–\t1h", "wind_max_1d\tmax\twind\t1d"]);
    await events.locator(".ouro-lookup-key").fill("rain");
    await events.locator('[data-ouro-action="lookup"]').click();
    const eventResult = events.locator(".ouro-lookup-result");
    await until("the event lookup", async () => (await eventResult.getAttribute("data-ouro-lookup")) !== null, 15_000);
    const eventApi = (await s.gql(`query($f: ID!) { onlineFeatures(featureSetId: $f, keys: ["rain"]) { values } }`, { f: eventSetId })).onlineFeatures[0];
    expect(JSON.parse((await eventResult.getAttribute("data-ouro-lookup"))!)).toEqual(eventApi.values);
    await s.shot("event-feature-set");
  }, 90_000);

  it("a monitor deleted under its open view says not found", async () => {
    const doomed = (await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`, {
      i: { deploymentId, name: "doomed-monitor", kinds: ["data_drift"], window: { predictions: 1000 }, features: FEATURES, referenceVersionId: versionId },
    })).id;
    await s.treeNode("monitor", doomed).waitFor({ timeout: 30_000 });
    await s.treeNode("monitor", doomed).click();
    const view = s.panel("monitor", doomed);
    await view.locator(".ouro-monitor-latest").waitFor({ timeout: 30_000 });
    await s.t.app.db.query("DELETE FROM monitors WHERE id = $1", [doomed]);
    const gone = view.locator('[data-ouro-error="not-found"]');
    await gone.waitFor({ timeout: 30_000 });
    expect(await gone.textContent()).toMatch(/^This monitor was not found: it was deleted/);
    await s.shot("deleted-monitor");
  }, 90_000);
});
