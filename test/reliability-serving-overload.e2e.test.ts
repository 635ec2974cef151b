import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

// RELIABILITY.md case 33: several times the traffic an endpoint can take gets 429/503 with
// Retry-After for the excess, never an unbounded queue or a crash; the endpoint then serves
// normally again.

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const FEATURES = ["precipitation", "temp_max", "temp_min", "wind"];

describe("an endpoint under far more traffic than it is allowed", () => {
  let t: TestOuro;
  let base: string;
  let rows: Record<string, number>[];
  async function mutate(query: string, variables: Record<string, unknown>) {
    const r = await t.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  beforeAll(async () => {
    // At most 4 predict requests at once per process, and 16 rows waiting in a micro-batch.
    t = await startTestOuro({ label: "rel-overload", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1", OURO_SERVING_MAX_CONCURRENT: "4", OURO_SERVING_MAX_QUEUED_ROWS: "16" } });
    base = t.url.replace(/\/graphql$/, "");
    const projectId = await createProject(t, "overload");
    const ingest = await waitForJob(t, (await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "weather", source: { path: path.join(DATA, "seattle-weather.csv") } } })).id);
    expect(ingest.status, ingest.error).toBe("succeeded");
    const trainJob = await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, { i: { projectId, datasetVersionId: ingest.result.versionId, target: "weather", task: "multiclass", features: FEATURES, model: { kind: "logistic", epochs: 3 }, seed: 1 } });
    const train = await waitForJob(t, trainJob.id, 180_000);
    expect(train.status, train.error).toBe("succeeded");
    const [run] = await t.app.db.query("SELECT id FROM runs WHERE job_id = $1", [trainJob.id]);
    const version = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "weather" }) { id } }`, { r: run.id });
    await mutate(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, { i: { projectId, name: "weather", modelVersionId: version.id, microBatch: { windowMs: 50, maxBatch: 64 } } });
    const csv = (await readFile(path.join(DATA, "seattle-weather.csv"), "utf8")).trim().split("\n");
    const header = csv[0].split(",");
    rows = csv.slice(1, 401).map((line) => {
      const cells = line.split(",");
      return Object.fromEntries(FEATURES.map((f) => [f, Number(cells[header.indexOf(f)])]));
    });
  }, 300_000);
  afterAll(() => t?.stop());

  const predict = (body: unknown) =>
    fetch(`${base}/v1/endpoints/weather/predict`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` }, body: JSON.stringify(body) });

  it("400 requests at once against a limit of 4: the excess gets 429/503 with Retry-After, the rest right answers, and then it serves normally", async () => {
    expect((await predict(rows[0])).status).toBe(200); // warm: the model is loaded
    const answers = await Promise.all(
      rows.map(async (row, i) => {
        const sent = i % 10 === 0 ? 4 : 1;
        const res = await predict(sent === 4 ? { rows: [row, row, row, row] } : row);
        const body = (await res.json()) as any;
        return { sent, status: res.status, retryAfter: res.headers.get("retry-after"), body };
      }),
    );
    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    expect([...byStatus.keys()].every((s) => [200, 429, 503].includes(s)), JSON.stringify([...byStatus])).toBe(true);
    expect(byStatus.get(200) ?? 0).toBeGreaterThan(0);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(["RATE_LIMITED", "UNAVAILABLE"]).toContain(a.body.errors[0].extensions.code);
      expect(a.body.errors[0].message).not.toMatch(/at \w+ \(|\.ts:\d+/);
    }
    // An accepted request is answered whole: one prediction per row sent.
    for (const a of answers.filter((x) => x.status === 200)) expect(a.body.predictions.length).toBe(a.sent);

    // Afterwards, one at a time: every request succeeds again.
    for (const row of rows.slice(0, 20)) expect((await predict(row)).status).toBe(200);
    const stats = await fetch(`${base}/v1/endpoints/weather/status`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(stats.status).toBe(200);
  }, 120_000);
});
