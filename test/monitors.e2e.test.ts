import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ks2samp } from "../server/src/domains/monitors/drift";
import { enqueueDueWindows } from "../server/src/domains/monitors/monitor.scheduler";
import { verifySignature } from "../server/src/domains/monitors/webhook";
import { createProject, newUserToken, startTestOuro, take, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

interface Weather { precipitation: number; temp_max: number; temp_min: number; wind: number; weather: string }

/** seattle-weather.csv as rows (the file is plain: no quotes, no empty fields). */
function seattleWeather(): Weather[] {
  const [header, ...lines] = readFileSync(path.join(DATA, "seattle-weather.csv"), "utf8").trim().split("\n");
  const cols = header.split(",");
  return lines.map((line) => {
    const v = Object.fromEntries(line.split(",").map((x, i) => [cols[i], x]));
    return { precipitation: Number(v.precipitation), temp_max: Number(v.temp_max), temp_min: Number(v.temp_min), wind: Number(v.wind), weather: v.weather };
  });
}

interface Delivery { headers: http.IncomingHttpHeaders; body: string; status: number }

describe("monitors and alerts", () => {
  let t: TestOuro;
  let projectId: string;
  let versionId: string;
  let deploymentId: string;
  let rows: Weather[];
  let hook: http.Server;
  let hookUrl: string;
  const deliveries: Delivery[] = [];
  let failNextDelivery = true;
  let requestCounter = 0;

  async function mutate(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  async function errorOf(query: string, variables: Record<string, unknown>, token?: string) {
    const r = await t.gql(query, variables, token);
    expect(r.errors, JSON.stringify(r.data)).toBeTruthy();
    return { code: r.errors![0].extensions?.code, message: r.errors![0].message };
  }

  /** Logs predictions for `inputs` straight into the prediction log, as serving writes it. */
  async function logPredictions(deployment: string, inputs: Record<string, unknown>[], predictions: unknown[]): Promise<string[]> {
    const ids = inputs.map(() => `req-${++requestCounter}`);
    await t.app.db.query(
      `INSERT INTO prediction_log (deployment_id, project_id, request_id, model_version_id, role, inputs, outputs, latency_ms)
       SELECT $1, $2, r, gen_random_uuid(), 'primary', i, o, 1.5 FROM unnest($3::text[], $4::jsonb[], $5::jsonb[]) AS u(r, i, o)`,
      [deployment, projectId, ids, inputs.map((i) => JSON.stringify(i)), predictions.map((p) => JSON.stringify({ prediction: p }))],
    );
    return ids;
  }
  const features = (w: Weather) => ({ precipitation: w.precipitation, temp_max: w.temp_max, temp_min: w.temp_min, wind: w.wind });
  /** A season that never happened: 15 °C warmer, three times the wind. */
  const shifted = (w: Weather) => ({ ...features(w), temp_max: w.temp_max + 15, temp_min: w.temp_min + 15, wind: w.wind * 3 });
  const sample = (n: number, offset: number) => Array.from({ length: n }, (_, i) => rows[(offset + i * 7) % rows.length]);

  async function nextResults(monitorId: string, after: string | null, n: number) {
    const client = t.ws();
    const got = await take<any>(client, `subscription($m: ID!, $a: Cursor) { monitorUpdates(monitorId: $m, after: $a) { cursor windowKey status driftScore predictions features { name kind status score metrics } prediction { status score } performance quality } }`, { m: monitorId, a: after }, n, 60_000);
    await client.dispose();
    expect(got.errors).toEqual([]);
    return got.events.map((e) => e.monitorUpdates);
  }

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const status = failNextDelivery ? 500 : 204;
        failNextDelivery = false;
        deliveries.push({ headers: req.headers, body, status });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/ouro-alerts`;
    t = await startTestOuro({
      label: "monitors",
      worker: true,
      env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "3", OURO_WEBHOOK_ALLOW_PRIVATE_URLS: "true", OURO_MONITOR_SCHEDULER_SECONDS: "1" },
    });
    projectId = await createProject(t, "monitoring");
    rows = seattleWeather();
    const ingest = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "weather", source: { path: path.join(DATA, "seattle-weather.csv") } } })).id);
    expect(ingest.status, ingest.error).toBe("succeeded");
    versionId = ingest.result.versionId;
    const profiled = await waitForJob(t, (await mutate(`mutation($v: ID!) { profileDataset(versionId: $v) { id } }`, { v: versionId })).id);
    expect(profiled.status, profiled.error).toBe("succeeded");
    [{ id: deploymentId }] = await t.app.db.query("INSERT INTO deployments (project_id, name, status) VALUES ($1, 'weather-api', 'ready') RETURNING id", [projectId]);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await new Promise((resolve) => hook?.close(resolve));
  });

  it("measures drift per window, fires an alert after N windows, notifies a signed webhook, and resolves when the data is back", async () => {
    const monitor = await mutate(
      `mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id kinds referenceVersionId config } }`,
      { i: { deploymentId, name: "weather drift", kinds: ["data_drift", "prediction_drift", "performance", "data_quality"], window: { predictions: 200 }, referenceVersionId: versionId, target: "weather" } },
    );
    expect(monitor.referenceVersionId).toBe(versionId);
    expect(monitor.config.features).toEqual(["precipitation", "temp_max", "temp_min", "wind"]);
    expect(monitor.config.thresholds).toEqual({ potential: 0.5, detected: 0.7 });
    const created = await mutate(
      `mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id metric threshold forWindows severity webhookUrl } webhookSecret } }`,
      { i: { monitorId: monitor.id, name: "drift detected twice", metric: "status", threshold: 2, forWindows: 2, severity: "critical", webhookUrl: hookUrl } },
    );
    const secret: string = created.webhookSecret;
    // A pipeline that retrains when this monitor alerts (here: refits a recipe).
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "weather inputs", steps: $s) { id } }`, { p: projectId, s: [{ op: "fillNull", columns: ["wind"], strategy: "mean" }] });
    const pipeline = await mutate(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { pipeline { id } } }`, {
      i: { projectId, name: "refit-on-drift", spec: { steps: [{ id: "fit", kind: "fitRecipe", params: { recipeId: recipe.id, versionId } }] }, triggers: [{ kind: "alert", monitorId: monitor.id }] },
    });
    expect(secret).toMatch(/^whsec_/);
    expect(created.rule).toMatchObject({ metric: "status", threshold: 2, forWindows: 2, severity: "critical", webhookUrl: hookUrl });
    // The secret is shown once: the stored rule does not give it back.
    const rules = (await t.gql(`query($m: ID!) { monitor(id: $m) { alertRules { id webhookUrl } } }`, { m: monitor.id })).data.monitor.alertRules;
    expect(rules).toEqual([{ id: created.rule.id, webhookUrl: hookUrl }]);

    // Window 1: the training distribution itself → ok. The scheduler enqueues it once 200 predictions exist.
    const normal1 = sample(200, 3);
    await logPredictions(deploymentId, normal1.map(features), normal1.map((w) => w.weather));
    const [w1] = await nextResults(monitor.id, null, 1);
    expect(w1).toMatchObject({ status: "ok", predictions: 200 });
    expect(w1.windowKey).toMatch(/^count:/);
    expect(w1.features.map((f: { name: string }) => f.name)).toEqual(["precipitation", "temp_max", "temp_min", "wind"]);
    for (const f of w1.features) {
      expect(f.kind).toBe("numeric");
      expect(f.status).toBe("ok");
      expect(f.metrics.psi).toBeLessThan(0.25);
      expect(f.metrics.ksPValue).toBeGreaterThan(0.001);
      // KS is exact, against the raw reference column (read from the dataset's Parquet); the
      // profile-histogram figure is kept beside it and can only be lower.
      const name = f.name as keyof Weather;
      expect(f.metrics.ks).toBe(ks2samp(rows.map((w) => w[name] as number), normal1.map((w) => w[name] as number)).statistic);
      expect(f.metrics.ksBinned).toBeLessThanOrEqual(f.metrics.ks);
    }
    expect(w1.prediction.status).toBe("ok");
    expect(w1.quality.status).toBe("ok");
    expect(w1.quality.schemaViolations).toBe(0);

    // Windows 2 and 3: shifted → detected; the rule (2 windows) fires after the second.
    const hot = sample(400, 11);
    await logPredictions(deploymentId, hot.slice(0, 200).map(shifted), hot.slice(0, 200).map(() => "sun"));
    const [w2] = await nextResults(monitor.id, w1.cursor, 1);
    expect(w2.status).toBe("detected");
    expect(w2.driftScore).toBeGreaterThanOrEqual(0.7);
    const byName = Object.fromEntries(w2.features.map((f: { name: string }) => [f.name, f]));
    expect(byName.wind.status).toBe("detected");
    expect(byName.temp_max.status).not.toBe("ok");
    expect(byName.wind.metrics.psi).toBeGreaterThan(0.25);
    expect(byName.wind.metrics.ksPValue).toBeLessThan(1e-6);
    expect(byName.wind.metrics.ks).toBe(ks2samp(rows.map((w) => w.wind), hot.slice(0, 200).map((w) => w.wind * 3)).statistic);
    expect(byName.precipitation.status).toBe("ok"); // untouched
    expect(w2.prediction.score).toBeGreaterThan(w1.prediction.score); // everything predicted "sun"
    expect(w2.quality.status).toBe("detected");
    expect(w2.quality.maxOutOfRange).toBeGreaterThan(0.05);
    expect((await t.gql(`query($p: ID!) { alerts(projectId: $p) { totalCount } }`, { p: projectId })).data.alerts.totalCount).toBe(0);

    await logPredictions(deploymentId, hot.slice(200).map(shifted), hot.slice(200).map(() => "sun"));
    const [w3] = await nextResults(monitor.id, w2.cursor, 1);
    expect(w3.status).toBe("detected");
    const firing = (await t.gql(`query($p: ID!) { alerts(projectId: $p, state: firing) { nodes { id state severity monitorId ruleId message details } } }`, { p: projectId })).data.alerts.nodes;
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ state: "firing", severity: "critical", monitorId: monitor.id, ruleId: created.rule.id });
    const alertId = firing[0].id;
    // The alert started a run of the pipeline that watches this monitor.
    let runs: { trigger: Record<string, unknown> }[] = [];
    for (let i = 0; i < 100 && runs.length === 0; i++) {
      runs = await t.app.db.query("SELECT trigger FROM pipeline_runs WHERE pipeline_id = $1", [pipeline.pipeline.id]);
      if (runs.length === 0) await sleep(100);
    }
    expect(runs).toEqual([{ trigger: { kind: "alert", alertId, monitorId: monitor.id } }]);

    // The webhook: the first try answered 500, the queue retried with backoff; same bytes, valid signature.
    const deadline = Date.now() + 30_000;
    while (deliveries.filter((d) => d.status === 204).length < 1 && Date.now() < deadline) await sleep(200);
    expect(deliveries.map((d) => d.status)).toEqual([500, 204]);
    const [first, second] = deliveries;
    expect(second.body).toBe(first.body);
    expect(second.headers["x-ouro-delivery"]).toBe(first.headers["x-ouro-delivery"]);
    for (const d of deliveries) {
      expect(verifySignature(secret, String(d.headers["x-ouro-timestamp"]), d.body, String(d.headers["x-ouro-signature"]))).toBe(true);
      expect(verifySignature("whsec_not-the-secret-at-all", String(d.headers["x-ouro-timestamp"]), d.body, String(d.headers["x-ouro-signature"]))).toBe(false);
    }
    const payload = JSON.parse(second.body);
    expect(payload).toMatchObject({ type: "alert.firing", alert: { id: alertId, state: "firing", monitorId: monitor.id }, rule: { id: created.rule.id, metric: "status" } });

    // firing → acknowledged; twice is a conflict.
    const acked = await mutate(`mutation($a: ID!) { acknowledgeAlert(alertId: $a) { state acknowledgedAt acknowledgedById } }`, { a: alertId });
    expect(acked.state).toBe("acknowledged");
    expect(acked.acknowledgedById).toBeTruthy();
    expect((await errorOf(`mutation($a: ID!) { acknowledgeAlert(alertId: $a) { state } }`, { a: alertId })).code).toBe("CONFLICT");

    // Window 4: back to normal → the alert resolves by itself.
    const normal2 = sample(200, 5);
    const ids = await logPredictions(deploymentId, normal2.map(features), normal2.map((w) => w.weather));
    const [w4] = await nextResults(monitor.id, w3.cursor, 1);
    expect(w4.status).toBe("ok");
    const alert = (await t.gql(`query($p: ID!) { alerts(projectId: $p) { nodes { id state resolvedAt } } }`, { p: projectId })).data.alerts.nodes[0];
    expect(alert).toMatchObject({ id: alertId, state: "resolved" });
    expect(alert.resolvedAt).toBeTruthy();

    // The whole story, resumable: alertEvents from the start, then from the first event's cursor.
    const client = t.ws();
    const events = (await take<any>(client, `subscription($p: ID!) { alertEvents(projectId: $p) { cursor alertId state actorId } }`, { p: projectId }, 3, 15_000)).events.map((e) => e.alertEvents);
    expect(events.map((e) => e.state)).toEqual(["firing", "acknowledged", "resolved"]);
    expect(events.every((e) => e.alertId === alertId)).toBe(true);
    expect(events[0].actorId).toBeNull();
    expect(events[1].actorId).toBeTruthy();
    const resumed = (await take<any>(client, `subscription($p: ID!, $a: Cursor) { alertEvents(projectId: $p, after: $a) { state } }`, { p: projectId, a: events[0].cursor }, 2, 15_000)).events;
    expect(resumed.map((e) => e.alertEvents.state)).toEqual(["acknowledged", "resolved"]);
    await client.dispose();
    // The alert carries its own history, with the stream's cursors (a view follows on from the last).
    const history = (await t.gql(`query($a: ID!) { alert(id: $a) { history { cursor state actorId } } }`, { a: alertId })).data.alert.history;
    expect(history).toEqual(events.map((e) => ({ cursor: e.cursor, state: e.state, actorId: e.actorId })));
    // Every state change was sent (acknowledged and resolved too), each signed.
    while (deliveries.length < 4 && Date.now() < deadline + 30_000) await sleep(200);
    expect(deliveries.slice(2).map((d) => JSON.parse(d.body).type).sort()).toEqual(["alert.acknowledged", "alert.resolved"]);

    // Labels arrive: live performance. Three of every four labels agree with the prediction.
    const truth = normal2.map((w, i) => (i % 4 === 3 ? (w.weather === "rain" ? "sun" : "rain") : w.weather));
    await t.app.db.query("INSERT INTO prediction_labels (deployment_id, request_id, label) SELECT $1, r, l FROM unnest($2::text[], $3::jsonb[]) AS u(r, l)", [deploymentId, ids, truth.map((x) => JSON.stringify(x))]);
    const job = await mutate(`mutation($m: ID!) { runMonitorNow(monitorId: $m) { id kind } }`, { m: monitor.id });
    expect(job.kind).toBe("monitors.evaluate");
    const done = await waitForJob(t, job.id);
    expect(done.status, done.error).toBe("succeeded");
    const [w5] = await nextResults(monitor.id, w4.cursor, 1);
    expect(w5.windowKey).toBe(`manual:${job.id}`);
    expect(w5.performance).toMatchObject({ task: "classification", labelled: 200, accuracy: 0.75 });
    expect(w5.performance.f1).toBeGreaterThan(0);
    expect(w5.performance.f1).toBeLessThan(1);

    // Results page in window order; the audit trail has every step.
    const page = (await t.gql(`query($m: ID!) { monitor(id: $m) { latestResult { cursor } results(first: 2) { totalCount hasNextPage endCursor nodes { status } } } }`, { m: monitor.id })).data.monitor;
    expect(page.latestResult.cursor).toBe(w5.cursor);
    expect(page.results).toMatchObject({ totalCount: 5, hasNextPage: true, endCursor: w2.cursor, nodes: [{ status: "ok" }, { status: "detected" }] });
    const audit = await t.app.db.query("SELECT action FROM audit_events WHERE project_id = $1 ORDER BY seq", [projectId]);
    const actions = audit.map((a: { action: string }) => a.action);
    for (const a of ["monitor.create", "alertRule.create", "alert.fire", "alert.acknowledge", "alert.resolve", "monitor.run"]) expect(actions).toContain(a);
  }, 180_000);

  it("defaults the reference to the deployed model version's training data, and flags schema violations", async () => {
    const runId = (await mutate(`mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "weather" }) { id } }`, { p: projectId })).id;
    await mutate(`mutation($r: ID!, $v: String!) { logParams(runId: $r, params: [{ key: "trainVersionId", value: $v }]) { key } }`, { r: runId, v: versionId });
    const [{ id: modelId }] = await t.app.db.query("INSERT INTO models (project_id, name) VALUES ($1, 'weather-clf') RETURNING id", [projectId]);
    const [{ id: mvId }] = await t.app.db.query(
      "INSERT INTO model_versions (project_id, model_id, version, run_id, signature) VALUES ($1, $2, 1, $3, $4) RETURNING id",
      [projectId, modelId, runId, { features: [], target: "weather", task: "multiclass", classes: ["drizzle", "fog", "rain", "snow", "sun"] }],
    );
    const [{ id: dep2 }] = await t.app.db.query("INSERT INTO deployments (project_id, name, status, traffic) VALUES ($1, 'weather-v1', 'ready', $2) RETURNING id", [projectId, { weights: { [mvId]: 100 } }]);
    const m = await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id referenceVersionId config } }`, { i: { deploymentId: dep2, name: "defaults", kinds: ["data_quality", "data_drift"], window: { minutes: 60 } } });
    expect(m.referenceVersionId).toBe(versionId);
    expect(m.config).toMatchObject({ modelVersionId: mvId, target: "weather", task: "classification", window: { kind: "time", minutes: 60 } });
    expect(m.config.features).toEqual(["precipitation", "temp_max", "temp_min", "wind"]);

    // Rows with a missing feature, a string where a number belongs and a field the model does not take.
    const good = sample(40, 1).map(features);
    const bad = [{ precipitation: 0, temp_max: "hot", temp_min: 3, wind: 2 }, { precipitation: 0, temp_min: 3, wind: 2 }, { ...good[0], humidity: 0.4 }, { ...good[1], wind: null }];
    await logPredictions(dep2, [...good, ...bad], [...good, ...bad].map(() => "rain"));
    const job = await mutate(`mutation($m: ID!) { runMonitorNow(monitorId: $m) { id } }`, { m: m.id });
    expect((await waitForJob(t, job.id)).status).toBe("succeeded");
    const [r] = await nextResults(m.id, null, 1);
    expect(r.predictions).toBe(44);
    expect(r.quality).toMatchObject({ status: "detected", rows: 44, schemaViolations: 3, extraFields: ["humidity"] });
    const q = Object.fromEntries(r.quality.features.map((f: { name: string }) => [f.name, f]));
    expect(q.temp_max).toMatchObject({ typeErrors: 1, missing: 1 });
    expect(q.wind.nullRate).toBeCloseTo(1 / 44, 10);
    expect(r.quality.reasons.join(" ")).toMatch(/break the schema/);
  }, 60_000);

  it("time windows are enqueued once per window by every worker's scheduler", async () => {
    const m = await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id config } }`, { i: { deploymentId, name: "hourly", kinds: ["data_drift"], window: { minutes: 60 }, referenceVersionId: versionId, features: ["wind"] } });
    const later = new Date(Date.parse(m.config.anchor) + 3 * 3600_000 + 1000);
    const timeJobs = async () => (await t.app.db.query("SELECT count(*)::int AS n FROM jobs WHERE idempotency_key LIKE 'monitor-window:%:time:%'"))[0].n as number;
    const before = await timeJobs();
    // Two "workers" at once: three windows are due, each enqueued exactly once.
    const [a, b] = await Promise.all([enqueueDueWindows(t.app.db, t.app.config, later), enqueueDueWindows(t.app.db, t.app.config, later)]);
    const jobs = await t.app.db.query("SELECT idempotency_key FROM jobs WHERE project_id = $1 AND idempotency_key LIKE $2 ORDER BY idempotency_key", [projectId, `monitor-window:${m.id}:time:%`]);
    expect(jobs).toHaveLength(3);
    // (Other monitors' windows may be due as well: what matters is that none was enqueued twice.)
    expect(a + b).toBe((await timeJobs()) - before);
    expect(await enqueueDueWindows(t.app.db, t.app.config, later)).toBe(0);
    // Workers down for a long time: only the latest ten windows are evaluated, older ones skipped.
    const muchLater = new Date(Date.parse(m.config.anchor) + 100 * 3600_000 + 1000);
    await enqueueDueWindows(t.app.db, t.app.config, muchLater);
    const keys = (await t.app.db.query("SELECT idempotency_key AS k FROM jobs WHERE idempotency_key LIKE $1", [`monitor-window:${m.id}:time:%`])).map((r: { k: string }) => r.k.split(":time:")[1]).sort();
    expect(keys).toHaveLength(13);
    expect(keys[3]).toBe(new Date(Date.parse(m.config.anchor) + 91 * 3600_000).toISOString());
    const listed = (await t.gql(`query($p: ID!) { monitors(projectId: $p, first: 100) { totalCount nodes { id name kinds } } }`, { p: projectId })).data.monitors;
    expect(listed.nodes.map((n: { id: string }) => n.id)).toContain(m.id);
    expect(listed.nodes.find((n: { id: string }) => n.id === m.id)).toMatchObject({ name: "hourly", kinds: ["data_drift"] });
  }, 60_000);

  it("pausing skips scheduled windows, resuming starts from now; disabling a rule resolves its alert", async () => {
    const [{ id: dep }] = await t.app.db.query("INSERT INTO deployments (project_id, name, status) VALUES ($1, 'weather-paused', 'ready') RETURNING id", [projectId]);
    const m = await mutate(`mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`, { i: { deploymentId: dep, name: "pausable", kinds: ["data_drift"], window: { predictions: 50 }, referenceVersionId: versionId, features: ["wind"] } });
    const rule = (await mutate(`mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id enabled } } }`, { i: { monitorId: m.id, name: "any drift", metric: "driftScore", threshold: 0 } })).rule;
    expect(rule.enabled).toBe(true);
    const windowJobs = async () => (await t.app.db.query("SELECT count(*)::int AS n FROM jobs WHERE idempotency_key LIKE $1", [`monitor-window:${m.id}:%`]))[0].n as number;

    expect((await mutate(`mutation($m: ID!) { setMonitorPaused(monitorId: $m, paused: true) { status } }`, { m: m.id })).status).toBe("paused");
    const during = sample(50, 2);
    await logPredictions(dep, during.map(features), during.map((w) => w.weather));
    await enqueueDueWindows(t.app.db, t.app.config);
    expect(await windowJobs()).toBe(0);
    // By hand it still runs; the rule (driftScore ≥ 0) fires on any measured window.
    const job = await mutate(`mutation($m: ID!) { runMonitorNow(monitorId: $m) { id } }`, { m: m.id });
    expect((await waitForJob(t, job.id)).status).toBe("succeeded");
    const [open] = await t.app.db.query("SELECT id, state FROM alerts WHERE rule_id = $1", [rule.id]);
    expect(open.state).toBe("firing");

    const off = await mutate(`mutation($r: ID!) { setAlertRuleEnabled(ruleId: $r, enabled: false) { enabled } }`, { r: rule.id });
    expect(off.enabled).toBe(false);
    const [after] = await t.app.db.query("SELECT state, resolved_at FROM alerts WHERE id = $1", [open.id]);
    expect(after.state).toBe("resolved");
    const [event] = await t.app.db.query("SELECT state, actor_id, data FROM alert_events WHERE alert_id = $1 ORDER BY seq DESC LIMIT 1", [open.id]);
    expect(event).toMatchObject({ state: "resolved", data: { reason: "rule disabled" } });
    expect(event.actor_id).toBeTruthy();

    // Resumed: what was logged while paused is not evaluated; the next 50 are.
    expect((await mutate(`mutation($m: ID!) { setMonitorPaused(monitorId: $m, paused: false) { status } }`, { m: m.id })).status).toBe("active");
    await enqueueDueWindows(t.app.db, t.app.config);
    expect(await windowJobs()).toBe(0);
    const next = sample(50, 4);
    await logPredictions(dep, next.map(features), next.map((w) => w.weather));
    await enqueueDueWindows(t.app.db, t.app.config);
    expect(await windowJobs()).toBe(1);
    const audit = (await t.app.db.query("SELECT action FROM audit_events WHERE target_id IN ($1, $2) ORDER BY seq", [m.id, rule.id])).map((a: { action: string }) => a.action);
    expect(audit).toEqual(["monitor.create", "alertRule.create", "monitor.pause", "monitor.run", "alertRule.disable", "monitor.resume"]);
  }, 60_000);

  it("refuses bad input and other projects' objects, and writes nothing", async () => {
    const CREATE = `mutation($i: CreateMonitorInput!) { createMonitor(input: $i) { id } }`;
    const base = { deploymentId, name: "bad", kinds: ["data_drift"], window: { predictions: 100 }, referenceVersionId: versionId };
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM monitors");
    // A deployment that does not exist.
    expect((await errorOf(CREATE, { i: { ...base, deploymentId: "00000000-0000-4000-8000-000000000000" } })).code).toBe("NOT_FOUND");
    // Thresholds out of order or out of range; both window kinds; no kind; an unknown feature.
    expect(await errorOf(CREATE, { i: { ...base, potentialThreshold: 0.8, detectedThreshold: 0.7 } })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/potential must not exceed/) });
    expect((await errorOf(CREATE, { i: { ...base, detectedThreshold: 1.5 } })).code).toBe("BAD_USER_INPUT");
    expect((await errorOf(CREATE, { i: { ...base, window: { predictions: 10, minutes: 5 } } })).message).toMatch(/exactly one/);
    expect((await errorOf(CREATE, { i: { ...base, window: { predictions: 0 } } })).code).toBe("BAD_USER_INPUT");
    expect((await errorOf(CREATE, { i: { ...base, kinds: [] } })).code).toBe("BAD_USER_INPUT");
    expect((await errorOf(CREATE, { i: { ...base, features: ["humidity"] } })).message).toMatch(/humidity/);
    // A deployment with no model version and no explicit reference.
    expect((await errorOf(CREATE, { i: { ...base, referenceVersionId: null } })).message).toMatch(/referenceVersionId/);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM monitors");
    expect(after).toBe(before);

    const monitor = await mutate(CREATE, { i: { ...base, name: "for rules" } });
    const RULE = `mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id } webhookSecret } }`;
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "r", metric: "feature:humidity", threshold: 0.5 } })).code).toBe("BAD_USER_INPUT");
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "r", metric: "accuracy", threshold: 0.5 } })).message).toMatch(/unknown metric/);
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "r", metric: "driftScore", threshold: 0.5, forWindows: 0 } })).code).toBe("BAD_USER_INPUT");
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "r", metric: "driftScore", threshold: 0.5, webhookUrl: "ftp://example.com/x" } })).message).toMatch(/http or https/);
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "r", metric: "driftScore", threshold: 0.5, webhookUrl: hookUrl, webhookSecret: "short" } })).code).toBe("BAD_USER_INPUT");
    // A caller-chosen secret is not echoed back.
    expect((await mutate(RULE, { i: { monitorId: monitor.id, name: "own secret", metric: "driftScore", threshold: 0.5, webhookUrl: hookUrl, webhookSecret: "a-secret-of-my-own-choosing" } })).webhookSecret).toBeNull();

    // Without OURO_WEBHOOK_ALLOW_PRIVATE_URLS a private or loopback webhook is refused (a second server on the same database).
    const strict = await startTestOuro({ databaseUrl: t.databaseUrl, label: "monitors-strict" });
    try {
      for (const url of [hookUrl, "http://10.1.2.3/hook", "http://[::1]:8080/x", "http://169.254.169.254/latest/meta-data"]) {
        const r = await strict.gql(RULE, { i: { monitorId: monitor.id, name: "private", metric: "driftScore", threshold: 0.5, webhookUrl: url } }, t.adminToken);
        expect(r.errors?.[0].extensions?.code, url).toBe("BAD_USER_INPUT");
        expect(r.errors?.[0].message).toMatch(/webhookUrl: .*not a public address/);
      }
    } finally {
      await strict.stop();
    }
    const [{ n: ruleCount }] = await t.app.db.query("SELECT count(*)::int AS n FROM alert_rules WHERE monitor_id = $1", [monitor.id]);
    expect(ruleCount).toBe(1);

    // Another project's user sees nothing; a viewer reads but cannot create or run.
    const outsider = await newUserToken(t, "outsider@example.com");
    await createProject(t, "elsewhere", outsider);
    expect((await errorOf(`query($m: ID!) { monitor(id: $m) { id } }`, { m: monitor.id }, outsider)).code).toBe("NOT_FOUND");
    expect((await errorOf(`mutation($m: ID!) { runMonitorNow(monitorId: $m) { id } }`, { m: monitor.id }, outsider)).code).toBe("NOT_FOUND");
    expect((await errorOf(CREATE, { i: { ...base, name: "theirs" } }, outsider)).code).toBe("NOT_FOUND");
    expect((await errorOf(`query($p: ID!) { alerts(projectId: $p) { totalCount } }`, { p: projectId }, outsider)).code).toBe("NOT_FOUND");
    const viewer = await newUserToken(t, "viewer@example.com");
    await mutate(`mutation($p: ID!) { setMembership(projectId: $p, email: "viewer@example.com", role: viewer) { role } }`, { p: projectId });
    expect((await t.gql(`query($m: ID!) { monitor(id: $m) { id } }`, { m: monitor.id }, viewer)).data.monitor.id).toBe(monitor.id);
    expect((await errorOf(CREATE, { i: { ...base, name: "viewer's" } }, viewer)).code).toBe("FORBIDDEN");
    expect((await errorOf(RULE, { i: { monitorId: monitor.id, name: "v", metric: "driftScore", threshold: 0.5 } }, viewer)).code).toBe("FORBIDDEN");
    expect((await errorOf(`mutation($m: ID!) { runMonitorNow(monitorId: $m) { id } }`, { m: monitor.id }, viewer)).code).toBe("FORBIDDEN");
    expect((await errorOf(`mutation($m: ID!) { setMonitorPaused(monitorId: $m, paused: true) { id } }`, { m: monitor.id }, viewer)).code).toBe("FORBIDDEN");
    expect((await errorOf(`mutation($m: ID!) { setMonitorPaused(monitorId: $m, paused: true) { id } }`, { m: monitor.id }, outsider)).code).toBe("NOT_FOUND");
    const client = t.ws(outsider);
    const sub = await take<any>(client, `subscription($m: ID!) { monitorUpdates(monitorId: $m) { cursor } }`, { m: monitor.id }, 1, 5_000);
    await client.dispose();
    expect(JSON.stringify(sub.errors)).toMatch(/not found/);
    const client2 = t.ws(outsider);
    const events = await take<any>(client2, `subscription($p: ID!) { alertEvents(projectId: $p) { cursor } }`, { p: projectId }, 1, 5_000);
    await client2.dispose();
    expect(events.events).toEqual([]);
    expect(JSON.stringify(events.errors)).toMatch(/not found/);
  }, 90_000);
});
