import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

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

  describe("deleteFeatureSet", () => {
    let projectId: string;
    let sourceDatasetId: string;
    let sourceVersionId: string;
    const DELETE = `mutation($id: ID!) { deleteFeatureSet(id: $id) { id name offlineDatasetId } }`;
    const CSV = "user,ts,amount,label\n" + Array.from({ length: 40 }, (_, i) => `u${i % 8},2024-02-${String(1 + Math.floor(i / 2)).padStart(2, "0")}T00:00:00,${i % 8 < 4 ? 10 + i : 100 + i},${i % 8 < 4 ? 0 : 1}`).join("\n") + "\n";

    beforeAll(async () => {
      projectId = await createProject(t, "features-delete");
      await writeFile(path.join(dir, "risk.csv"), CSV);
      const job = await mutate(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "risk", source: { path: path.join(dir, "risk.csv") } } });
      const done = await finished(job.id);
      expect(done.status, done.error).toBe("succeeded");
      sourceVersionId = done.result.versionId;
      [{ id: sourceDatasetId }] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'risk'", [projectId]);
    }, 60_000);

    const createSet = (name: string) =>
      mutate(`mutation($i: CreateFeatureSetInput!) { createFeatureSet(input: $i) { id offlineDatasetId } }`, {
        i: { projectId, name, sourceDatasetId, entityKeys: ["user"], timestampColumn: "ts", features: ["amount"] },
      }) as Promise<{ id: string; offlineDatasetId: string }>;
    const materialize = async (id: string) => {
      const done = await finished((await mutate(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: id })).id);
      expect(done.status, done.error).toBe("succeeded");
      return done.result as { offlineVersionId: string };
    };
    const lineage = async (id: string) =>
      (await t.gql(`query($id: ID!) { lineage(id: $id) { nodes { id kind } edges { from to relation } } }`, { id })).data.lineage as {
        nodes: { id: string; kind: string }[];
        edges: { from: string; to: string; relation: string }[];
      };

    it("removes the feature set and its online values in one audited step, keeps its offline versions, and leaves lineage that named it renderable", async () => {
      const fs = await createSet("risk_gone");
      const { offlineVersionId } = await materialize(fs.id);
      expect((await online(fs.id, ["u0", "u5"])).map((r: { values: unknown }) => r.values)).toEqual([{ amount: 42 }, { amount: 137 }]);
      const built = await finished(
        (await mutate(`mutation($s: ID!, $f: [ID!]!) { buildTrainingSet(spineVersionId: $s, spineTime: "ts", featureSetIds: $f, outputDataset: "risk-train") { id } }`, { s: sourceVersionId, f: [fs.id] })).id,
      );
      expect(built.status, built.error).toBe("succeeded");
      const trainingVersionId = built.result.versionId as string;
      expect((await lineage(trainingVersionId)).nodes.map((n) => n.kind)).toContain("featureSet");

      const deleted = await mutate(DELETE, { id: fs.id });
      expect(deleted).toEqual({ id: fs.id, name: "risk_gone", offlineDatasetId: fs.offlineDatasetId });

      // Gone: the feature set, its online values (also for a token whose access was cached a moment ago).
      const read = await t.gql(`query($f: ID!, $k: [String!]!) { onlineFeatures(featureSetId: $f, keys: $k) { key } }`, { f: fs.id, k: ["u0"] });
      expect(read.errors?.[0]).toMatchObject({ message: `feature set ${fs.id} not found`, extensions: { code: "NOT_FOUND" } });
      expect((await t.gql(`query($id: ID!) { featureSet(id: $id) { id } }`, { id: fs.id })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      expect(await t.app.db.query("SELECT count(*)::int AS n FROM online_features WHERE feature_set_id = $1", [fs.id])).toEqual([{ n: 0 }]);
      expect(await t.app.db.query("SELECT count(*)::int AS n FROM feature_sets WHERE id = $1", [fs.id])).toEqual([{ n: 0 }]);

      // Kept: the offline version (readable from the artifact store) and the training set built on it.
      const offline = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { datasetId rowCount preview { rows } } }`, { id: offlineVersionId })).data.datasetVersion;
      expect(offline).toMatchObject({ datasetId: fs.offlineDatasetId, rowCount: 40 });
      expect(offline.preview.rows).toHaveLength(40);

      // Lineage still renders from the training set: through the offline version to the source, with no edge to a missing node.
      const after = await lineage(trainingVersionId);
      const ids = new Set(after.nodes.map((n) => n.id));
      expect([...ids]).toEqual(expect.arrayContaining([trainingVersionId, offlineVersionId, sourceVersionId]));
      expect(after.nodes.map((n) => n.kind)).not.toContain("featureSet");
      expect(after.edges.filter((e) => !ids.has(e.from) || !ids.has(e.to))).toEqual([]);
      expect(after.edges).toContainEqual({ from: offlineVersionId, to: trainingVersionId, relation: "derived" });

      // The audit trail says who deleted what.
      const trail = (await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { action targetId actorId data } }`, { p: projectId })).data.auditTrail;
      const entry = trail.find((a: { action: string }) => a.action === "featureSet.delete");
      expect(entry).toMatchObject({ targetId: fs.id, data: { name: "risk_gone", onlineRows: 8, offlineDatasetId: fs.offlineDatasetId, materializedVersionId: offlineVersionId, eventSource: null } });
      expect(entry.actorId).toBeTruthy();

      // Again, or an id that never existed: a clear NOT_FOUND, nothing else happens.
      for (const id of [fs.id, "00000000-0000-4000-8000-000000000000"]) {
        const again = await t.gql(DELETE, { id });
        expect(again.errors?.[0]).toMatchObject({ message: `feature set ${id} not found`, extensions: { code: "NOT_FOUND" } });
      }
      // The name is free again; the new feature set continues the same offline dataset.
      const reborn = await createSet("risk_gone");
      expect(reborn.offlineDatasetId).toBe(fs.offlineDatasetId);
    }, 120_000);

    it("is refused while a deployment enriches from it, a pipeline step names it or a trigger waits on its offline store — naming each — and changes nothing", async () => {
      const fs = await createSet("risk_used");
      await materialize(fs.id);
      const train = await finished(
        (await mutate(`mutation($i: TrainModelInput!) { trainModel(input: $i) { id } }`, {
          i: { projectId, datasetVersionId: sourceVersionId, target: "label", task: "binary", features: ["amount"], model: { kind: "logistic", epochs: 2 }, seed: 1 },
        })).id,
        120_000,
      );
      expect(train.status, train.error).toBe("succeeded");
      const mv = await mutate(`mutation($r: ID!) { registerModelVersion(input: { runId: $r, model: "risk" }) { id } }`, { r: train.result.runId });
      await mutate(`mutation($i: DeployModelInput!) { deployModel(input: $i) { id } }`, {
        i: { projectId, name: "risk-api", modelVersionId: mv.id, enrich: { featureSetId: fs.id, entityColumn: "user", features: ["amount"] } },
      });
      const pipeline = await mutate(`mutation($i: CreatePipelineInput!) { createPipeline(input: $i) { pipeline { id } } }`, {
        i: {
          projectId,
          name: "risk-nightly",
          triggers: [{ kind: "cron", schedule: "0 3 * * *" }, { kind: "datasetVersion", datasetId: fs.offlineDatasetId }],
          spec: { steps: [{ id: "refresh", kind: "materialize", params: { featureSetId: fs.id } }] },
        },
      });

      const refused = await t.gql(DELETE, { id: fs.id });
      expect(refused.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      const message: string = refused.errors![0].message;
      expect(message).toMatch(/^feature set risk_used is still used by /);
      expect(message).toContain("deployment risk-api (active, its serving enriches rows from it)");
      expect(message).toContain("pipeline risk-nightly (step refresh (materialize))");
      expect(message).toContain("pipeline risk-nightly (its datasetVersion trigger on new versions of the offline store)");
      expect(message).not.toContain("cron");
      expect((refused.errors![0].extensions!.details as { usedBy: { kind: string }[] }).usedBy.map((u: { kind: string }) => u.kind)).toEqual(["deployment", "pipeline", "pipeline"]);

      // Nothing changed: it is still there and still served online.
      expect((await online(fs.id, ["u0"]))[0].values).toEqual({ amount: 42 });
      const [audited] = await t.app.db.query("SELECT count(*)::int AS n FROM audit_events WHERE action = 'featureSet.delete' AND target_id = $1", [fs.id]);
      expect(audited.n).toBe(0);

      // Without the pipeline's uses only the deployment (no way to remove it yet) is left.
      const other = await createSet("risk_other");
      await mutate(`mutation($i: UpdatePipelineInput!) { updatePipeline(input: $i) { id } }`, {
        i: { id: pipeline.pipeline.id, triggers: [{ kind: "manual" }], spec: { steps: [{ id: "refresh", kind: "materialize", params: { featureSetId: other.id } }] } },
      });
      const still = await t.gql(DELETE, { id: fs.id });
      expect(still.errors?.[0].message).toBe("feature set risk_used is still used by deployment risk-api (active, its serving enriches rows from it); remove those uses first");
    }, 180_000);

    it("a job asked for while the feature set is being deleted waits for the delete, then is refused: nothing is left pointing at it", async () => {
      const fs = await createSet("risk_racing");
      // Play the delete's transaction: it locks the row, then removes it.
      const deleting = new pg.Client({ connectionString: t.databaseUrl });
      await deleting.connect();
      try {
        await deleting.query("BEGIN");
        await deleting.query("SELECT 1 FROM feature_sets WHERE id = $1 FOR UPDATE", [fs.id]);
        const asked = t.gql(`mutation($f: ID!) { materializeFeatureSet(featureSetId: $f) { id } }`, { f: fs.id });
        await sleep(300);
        await deleting.query("DELETE FROM feature_sets WHERE id = $1", [fs.id]);
        await deleting.query("COMMIT");
        expect((await asked).errors?.[0]).toMatchObject({ message: `feature set ${fs.id} not found`, extensions: { code: "NOT_FOUND" } });
      } finally {
        await deleting.end();
      }
      expect(await t.app.db.query("SELECT id FROM jobs WHERE payload->>'featureSetId' = $1", [fs.id])).toEqual([]);
    }, 60_000);

    it("needs a token and the editor role in the feature set's project", async () => {
      const fs = await createSet("risk_guarded");
      const viewer = await newUserToken(t, "delete-viewer@example.com");
      const outsider = await newUserToken(t, "delete-outsider@example.com");
      await mutate(`mutation($p: ID!) { setMembership(projectId: $p, email: "delete-viewer@example.com", role: viewer) { role } }`, { p: projectId });

      expect((await t.gql(DELETE, { id: fs.id }, null)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect((await t.gql(DELETE, { id: fs.id }, viewer)).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      // Someone outside the project cannot even learn that it exists.
      expect((await t.gql(DELETE, { id: fs.id }, outsider)).errors?.[0]).toMatchObject({ message: `feature set ${fs.id} not found`, extensions: { code: "NOT_FOUND" } });
      expect((await t.gql(`query($id: ID!) { featureSet(id: $id) { name } }`, { id: fs.id })).data.featureSet.name).toBe("risk_guarded");

      await mutate(`mutation($p: ID!) { setMembership(projectId: $p, email: "delete-viewer@example.com", role: editor) { role } }`, { p: projectId });
      expect((await t.gql(DELETE, { id: fs.id }, viewer)).data.deleteFeatureSet.name).toBe("risk_guarded");
    }, 60_000);
  });
});
