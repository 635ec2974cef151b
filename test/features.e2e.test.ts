import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

describe("feature store", () => {
  let t: TestOuro;
  let projectId: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ouro-features-"));
    t = await startTestOuro({ label: "features", worker: true, env: { OURO_INGEST_ROOTS: dir, OURO_JOB_MAX_ATTEMPTS: "1" } });
    projectId = await createProject(t, "features");
  });
  afterAll(() => t?.stop());

  const finished = (jobId: string, timeoutMs?: number) => waitForJob(t, jobId, timeoutMs);
  async function mutate(query: string, variables: Record<string, unknown>) {
    const r = await t.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return Object.values(r.data)[0] as any;
  }
  async function ingestCsv(dataset: string, name: string, csv: string) {
    await writeFile(path.join(dir, name), csv);
    const job = await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset, source: { path: path.join(dir, name) } } });
    const done = await finished(job.id);
    expect(done.status, done.error).toBe("succeeded");
    return done.result as { versionId: string; datasetId?: string };
  }
  const online = async (featureSetId: string, keys: string[]) =>
    (await t.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key values eventTime } }`, { f: featureSetId, k: keys })).data.onlineFeatures;

  it("serves the latest values online, joins training data as of each row's time without leakage, and re-materializes on new data", async () => {
    await ingestCsv("spend", "spend-v1.csv", "user,ts,spend_7d\nu1,2024-01-01T00:00:00,10\nu1,2024-01-05T00:00:00,50\nu2,2024-01-03T00:00:00,7\n");
    const [spend] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'spend'", [projectId]);
    const fs = await mutate(
      `mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id offlineDatasetId } }`,
      { i: { projectId, name: "spend", sourceDatasetId: spend.id, entityKeys: ["user"], timestampColumn: "ts", autoMaterialize: true } },
    );
    const m = await finished((await mutate(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fs.id })).id);
    expect(m.status, m.error).toBe("succeeded");
    expect(m.result).toMatchObject({ rows: 3, entities: 2 });

    const got = await online(fs.id, ["u1", "u2", "u3"]);
    expect(got.map((g: { values: unknown }) => g.values)).toEqual([{ spend_7d: 50 }, { spend_7d: 7 }, null]);

    // The leakage case: u1 on Jan 4 must see the Jan 1 value (10), not the Jan 5 one (50).
    const spine = await ingestCsv(
      "labels",
      "spine.csv",
      "user,ts,label\nu1,2024-01-04T00:00:00,0\nu1,2024-01-05T00:00:00,1\nu1,2023-12-31T00:00:00,0\nu2,2024-01-10T00:00:00,1\nu3,2024-01-10T00:00:00,0\n",
    );
    const ts = await finished(
      (await mutate(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "ts", featureSetIds: $f, outputDataset: "train") { id } }`, { s: spine.versionId, f: [fs.id] })).id,
    );
    expect(ts.status, ts.error).toBe("succeeded");
    const rows = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { parentVersionIds preview { rows } } }`, { id: ts.result.versionId })).data.datasetVersion;
    expect(rows.preview.rows.map((r: Record<string, unknown>) => [r.user, r.label, r.spend__spend_7d])).toEqual([
      ["u1", 0, 10],
      ["u1", 1, 50],
      ["u1", 0, null],
      ["u2", 1, 7],
      ["u3", 0, null],
    ]);
    expect(rows.parentVersionIds).toContain(spine.versionId);

    // New source data: the feature set re-materializes by itself.
    await ingestCsv("spend", "spend-v2.csv", "user,ts,spend_7d\nu1,2024-01-01T00:00:00,10\nu1,2024-01-05T00:00:00,50\nu2,2024-01-03T00:00:00,7\nu2,2024-01-11T00:00:00,99\n");
    for (let i = 0; i < 100 && (await online(fs.id, ["u2"]))[0].values?.spend_7d !== 99; i++) await sleep(100);
    expect((await online(fs.id, ["u2"]))[0].values).toEqual({ spend_7d: 99 });
    const trail = await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { action } }`, { p: projectId });
    expect(trail.data.auditTrail.map((a: { action: string }) => a.action)).toContain("featureSet.autoMaterialize");
  }, 60_000);

  it("lines a recipe's date output up with a spine whose dates are text (seattle-weather), and rejects a time column that is not a date", async () => {
    // Before the fix, polars' string → datetime cast made the spine's "2012-01-01" null, so no
    // row found its feature values unless the recipe output was cast to datetime first.
    const csv = await readFile(path.resolve(__dirname, "../node_modules/vega-datasets/data/seattle-weather.csv"), "utf8");
    const weather = await ingestCsv("weather", "seattle-weather.csv", csv);
    const [source] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'weather'", [projectId]);
    const steps = [
      { op: "cast", column: "date", to: "date" },
      { op: "dateParts", column: "date", parts: ["month", "weekday"] },
    ];
    const recipe = await mutate(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "weather dates", steps: $s) { id } }`, { p: projectId, s: steps });
    const fit = await finished((await mutate(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipe.id, v: weather.versionId })).id);
    expect(fit.status, fit.error).toBe("succeeded");
    const fs = await mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, {
      i: { projectId, name: "wx", sourceDatasetId: source.id, recipeId: recipe.id, entityKeys: ["weather"], timestampColumn: "date", features: ["date_month", "date_weekday", "temp_max"] },
    });
    const m = await finished((await mutate(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fs.id })).id);
    expect(m.status, m.error).toBe("succeeded");
    expect(m.result.rows).toBe(1461);

    const built = await finished(
      (await mutate(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "date", featureSetIds: $f, outputDataset: "weather-train") { id } }`, { s: weather.versionId, f: [fs.id] })).id,
    );
    expect(built.status, built.error).toBe("succeeded");
    expect(built.result.rows).toBe(1461);
    const rows: Record<string, unknown>[] = [];
    for (let offset = 0; offset < 1461; offset += 500) {
      const page = await t.gql(`query($id: ID!, $o: Int!) { datasetVersion(id: $id) { preview(offset: $o, limit: 500) { rows } } }`, { id: built.result.versionId, o: offset });
      rows.push(...page.data.datasetVersion.preview.rows);
    }
    expect(rows).toHaveLength(1461);
    // One row per day: each spine row's as-of match is the feature row of the same day and weather.
    const wrong = rows.filter((r) => {
      const day = new Date(`${r.date as string}T00:00:00Z`);
      return r.wx__temp_max !== r.temp_max || r.wx__date_month !== day.getUTCMonth() + 1 || r.wx__date_weekday !== ((day.getUTCDay() + 6) % 7) + 1;
    });
    expect(wrong.slice(0, 3)).toEqual([]);

    // A number is not a time: the job fails and says which column, and no version is written.
    const bad = await finished(
      (await mutate(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "wind", featureSetIds: $f, outputDataset: "weather-train-bad") { id } }`, { s: weather.versionId, f: [fs.id] })).id,
    );
    expect(bad.status).toBe("failed");
    expect(bad.error).toMatch(/time column "wind" is float/);
    const [versions] = await t.app.db.query("SELECT count(*)::int AS n FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.project_id = $1 AND d.name = 'weather-train-bad'", [projectId]);
    expect(versions.n).toBe(0);
  }, 120_000);

  it("composite entity keys, two feature sets in one training set, and an older source version never overwriting newer online values", async () => {
    const inv1 = await ingestCsv("inventory", "inventory-v1.csv", "store,product,ts,stock\ns1,p1,2024-03-01T00:00:00,5\ns1,p1,2024-03-03T00:00:00,8\ns1,p2,2024-03-02T00:00:00,3\ns2,p1,2024-03-01T00:00:00,4\n");
    const prices = await ingestCsv("prices", "prices.csv", "product,ts,price\np1,2024-02-28T00:00:00,1.0\np1,2024-03-02T00:00:00,1.5\np2,2024-03-01T00:00:00,2.0\n");
    const datasetOf = async (versionId: string) => (await t.gql(`query($v: ID!) { datasetVersion(id: $v) { datasetId } }`, { v: versionId })).data.datasetVersion.datasetId;
    const create = (name: string, sourceDatasetId: string, entityKeys: string[]) =>
      mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, { i: { projectId, name, sourceDatasetId, entityKeys, timestampColumn: "ts" } });
    const inventory = await create("inventory", await datasetOf(inv1.versionId), ["store", "product"]);
    const price = await create("price", await datasetOf(prices.versionId), ["product"]);
    const materialize = async (f: string, v?: string) => {
      const done = await finished((await mutate(`mutation($f: ID!, $v: ID) { materializeFeatureSet(featureSetId: $f, sourceVersionId: $v) { id } }`, { f, v })).id);
      expect(done.status, done.error).toBe("succeeded");
      return done.result;
    };
    expect(await materialize(inventory.id)).toMatchObject({ rows: 4, entities: 3 });
    await materialize(price.id);
    // A composite key is asked for as the JSON array of its parts, in entityKeys order.
    const stock = async (store: string, product: string) => (await online(inventory.id, [JSON.stringify([store, product])]))[0].values;
    expect([await stock("s1", "p1"), await stock("s1", "p2"), await stock("s2", "p2")]).toEqual([{ stock: 8 }, { stock: 3 }, null]);

    // Both feature sets as of each spine row's time; the equal-time value counts, a later one never does.
    const spine = await ingestCsv("orders", "orders.csv", "store,product,ts,label\ns1,p1,2024-03-02T00:00:00,1\ns1,p1,2024-03-03T00:00:00,0\ns1,p2,2024-03-01T12:00:00,1\ns2,p1,2024-02-29T00:00:00,0\n");
    const built = await finished(
      (await mutate(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "ts", featureSetIds: $f, outputDataset: "orders-train") { id } }`, { s: spine.versionId, f: [inventory.id, price.id] })).id,
    );
    expect(built.status, built.error).toBe("succeeded");
    const rows = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { preview { rows } } }`, { id: built.result.versionId })).data.datasetVersion.preview.rows;
    expect(rows.map((r: Record<string, unknown>) => [r.store, r.product, r.inventory__stock, r.price__price])).toEqual([
      ["s1", "p1", 5, 1.5],
      ["s1", "p1", 8, 1.5],
      ["s1", "p2", null, 2.0],
      ["s2", "p1", null, 1.0],
    ]);

    // A newer version raises s1/p1; materializing the older version again afterwards must not
    // bring back its older value (the online upsert keeps the later event time), while an
    // entity only the older version has stays as it was.
    const inv2 = await ingestCsv("inventory", "inventory-v2.csv", "store,product,ts,stock\ns1,p1,2024-03-09T00:00:00,12\n");
    await materialize(inventory.id, inv2.versionId);
    expect(await stock("s1", "p1")).toEqual({ stock: 12 });
    await materialize(inventory.id, inv1.versionId);
    expect([await stock("s1", "p1"), await stock("s1", "p2")]).toEqual([{ stock: 12 }, { stock: 3 }]);
  }, 60_000);

  it("refuses feature sets over missing columns with a clear job error", async () => {
    const [spend] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'spend'", [projectId]);
    const fs = await mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id } }`, {
      i: { projectId, name: "broken", sourceDatasetId: spend.id, entityKeys: ["customer"], timestampColumn: "ts" },
    });
    const m = await finished((await mutate(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fs.id })).id);
    expect(m.status).toBe("failed");
    expect(m.error).toMatch(/customer.*not found/);
  });
});
