import { readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");

describe("recipes through the API", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "recipes", worker: true, env: { OURO_INGEST_ROOTS: DATA, OURO_JOB_MAX_ATTEMPTS: "1" } });
    projectId = await createProject(t, "recipes");
  });
  afterAll(() => t?.stop());

  const finished = (jobId: string, timeoutMs?: number) => waitForJob(t, jobId, timeoutMs);
  const run = async (query: string, variables: Record<string, unknown>) => {
    const r = await t.gql(query, variables);
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return finished((Object.values(r.data)[0] as { id: string }).id);
  };

  it("fits on penguins, applies in batch to a new version with lineage, and transformRow matches every batch row", async () => {
    const ingested = await run(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, {
      i: { projectId, dataset: "penguins", source: { path: path.join(DATA, "penguins.json") } },
    });
    const versionId = ingested.result.versionId;
    const steps = [
      { op: "fillNull", columns: ["Beak Length (mm)", "Body Mass (g)"], strategy: "mean" },
      { op: "fillNull", columns: ["Sex"], strategy: "constant", value: "unknown" },
      { op: "derive", column: "mass_kg", expr: { op: "/", args: [{ col: "Body Mass (g)" }, { lit: 1000 }] } },
      { op: "oneHot", column: "Island" },
      { op: "ordinalEncode", column: "Species" },
      { op: "standardize", columns: ["Beak Length (mm)"] },
      { op: "filter", where: { op: ">", args: [{ col: "mass_kg" }, { lit: 3 }] } },
    ];
    const created = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "penguin features", steps: $s) { id } }`, { p: projectId, s: steps });
    const recipeId = created.data.createRecipe.id;
    expect((await run(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: recipeId, v: versionId })).status).toBe("succeeded");
    const applied = await run(`mutation($r: ID!, $v: ID!) { applyRecipe(recipeId: $r, versionId: $v, outputDataset: "penguin-features") { id } }`, { r: recipeId, v: versionId });
    expect(applied.status).toBe("succeeded");
    const out = await t.gql(`query($id: ID!) { datasetVersion(id: $id) { rowCount parentVersionIds recipeId preview(limit: 500) { rows } } }`, { id: applied.result.versionId });
    const dv = out.data.datasetVersion;
    expect(dv.parentVersionIds).toEqual([versionId]);
    expect(dv.recipeId).toBe(recipeId);

    // Follow the dataset: a new penguins version is applied into penguins-auto by itself.
    const [penguins] = await t.app.db.query("SELECT id FROM datasets WHERE project_id = $1 AND name = 'penguins'", [projectId]);
    const follow = await t.gql(`mutation($r: ID!, $d: ID!) { setRecipeAutoApply(recipeId: $r, sourceDatasetId: $d, outputDataset: "penguins-auto") { autoApplySourceId } }`, { r: recipeId, d: penguins.id });
    expect(follow.data.setRecipeAutoApply.autoApplySourceId).toBe(penguins.id);
    const subset = JSON.stringify((JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as unknown[]).slice(0, 100));
    const up = await fetch(`${t.url.replace("/graphql", "")}/v1/uploads?projectId=${projectId}&filename=subset.json`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}` },
      body: subset,
    });
    const uploadId = ((await up.json()) as { uploadId: string }).uploadId;
    const v2 = await run(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "penguins", source: { uploadId } } });
    let auto: any[] = [];
    for (let i = 0; i < 100 && auto.length === 0; i++) {
      auto = await t.app.db.query("SELECT v.parent_version_ids, v.row_count FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = 'penguins-auto' AND d.project_id = $1", [projectId]);
      if (auto.length === 0) await sleep(100);
    }
    expect(auto).toHaveLength(1);
    expect(auto[0].parent_version_ids[0]).toBe(v2.result.versionId);

    const raw = JSON.parse(await readFile(path.join(DATA, "penguins.json"), "utf8")) as Record<string, unknown>[];
    const perRow: Record<string, unknown>[] = [];
    for (const row of raw) {
      const r = await t.gql(`query($r: ID!, $row: JSONObject!) { transformRow(recipeId: $r, row: $row) }`, { r: recipeId, row });
      if (r.data.transformRow) perRow.push(r.data.transformRow);
    }
    expect(perRow.length).toBe(dv.rowCount);
    expect(dv.preview.rows.length).toBe(dv.rowCount);
    for (let i = 0; i < perRow.length; i++) {
      const batch = dv.preview.rows[i];
      expect(Object.keys(perRow[i])).toEqual(Object.keys(batch));
      for (const [k, v] of Object.entries(batch)) {
        if (typeof v === "number") expect(perRow[i][k] as number).toBeCloseTo(v, 9);
        else expect(perRow[i][k]).toEqual(v);
      }
    }
  }, 120_000);

  it("fits and applies in one job (outputDataset): the same version as fitRecipe then applyRecipe", async () => {
    const ingested = await run(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, {
      i: { projectId, dataset: "penguins-fused-src", source: { path: path.join(DATA, "penguins.json") } },
    });
    const versionId = ingested.result.versionId;
    const steps = [
      { op: "fillNull", columns: ["Body Mass (g)"], strategy: "mean" },
      { op: "oneHot", column: "Island" },
      { op: "derive", column: "not_dream", expr: { op: "-", args: [{ lit: 1 }, { col: "Island_Dream" }] } },
      { op: "groupBy", by: ["Species", "not_dream"], aggs: [{ column: "Body Mass (g)", fn: "mean" }, { column: "Island_Biscoe", fn: "sum" }] },
    ];
    const recipe = async (name: string) =>
      (await t.gql(`mutation($p: ID!, $n: String!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: $n, steps: $s) { id } }`, { p: projectId, n: name, s: steps })).data.createRecipe.id as string;
    const [twoJobs, oneJob] = [await recipe("two jobs"), await recipe("one job")];
    await run(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v) { id } }`, { r: twoJobs, v: versionId });
    const applied = await run(`mutation($r: ID!, $v: ID!) { applyRecipe(recipeId: $r, versionId: $v, outputDataset: "fused-a") { id } }`, { r: twoJobs, v: versionId });
    const fused = await run(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v, outputDataset: "fused-b") { id } }`, { r: oneJob, v: versionId });
    expect(fused.status).toBe("succeeded");
    const version = async (id: string) =>
      (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { contentHash rowCount parentVersionIds recipeId preview(limit: 50) { rows } } }`, { id })).data.datasetVersion;
    const [a, b] = [await version(applied.result.versionId), await version(fused.result.versionId)];
    expect(b.contentHash).toBe(a.contentHash); // byte for byte the same Parquet
    expect(b.parentVersionIds).toEqual([versionId]);
    expect(b.recipeId).toBe(oneJob);
    expect(b.rowCount).toBeGreaterThan(0);
    expect(b.preview.rows.some((r: Record<string, number>) => r.not_dream === 0)).toBe(true);
    const fitted = (id: string) => t.gql(`query($id: ID!) { recipe(id: $id) { fitted fittedOnVersionId } }`, { id }).then((r) => r.data.recipe);
    const [fa, fb] = [await fitted(twoJobs), await fitted(oneJob)];
    expect(fb.fitted).toEqual(fa.fitted);
    expect(fb.fittedOnVersionId).toBe(versionId);

    // Tried: a bad output dataset name (refused before any job), and a recipe that fails on
    // the data (the job fails; no output version, and the recipe stays unfitted).
    const badName = await t.gql(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v, outputDataset: "../etc") { id } }`, { r: oneJob, v: versionId });
    expect(badName.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    const failing = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "fails on data", steps: $s) { id } }`, {
      p: projectId,
      s: [{ op: "standardize", columns: ["Species"] }],
    });
    const failed = await run(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v, outputDataset: "fused-c") { id } }`, { r: failing.data.createRecipe.id, v: versionId });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/step 0 \(standardize\)/);
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.project_id = $1 AND d.name = 'fused-c'", [projectId]);
    expect(n).toBe(0);
    expect((await fitted(failing.data.createRecipe.id)).fitted).toBeNull();
  }, 120_000);

  it("joins flights-3m (3M rows) with airports.csv as reference data in one fit + apply job: the groups match polars by hand, lineage names both inputs, another project's version is refused", async () => {
    const ingest = (dataset: string, file: string) => run(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset, source: { path: path.join(DATA, file) } } });
    const flights = (await ingest("flights", "flights-3m.parquet")).result.versionId;
    const airports = (await ingest("airports", "airports.csv")).result.versionId;
    const steps = [
      { op: "join", with: airports, on: { left: "origin", right: "iata" }, columns: ["state"] },
      { op: "dateParts", column: "date", parts: ["month"] },
      { op: "fillNull", columns: ["state"], strategy: "constant", value: "unknown" },
      { op: "fillNull", columns: ["delay"], strategy: "mean" },
      { op: "oneHot", column: "state", maxCategories: 100, dropOriginal: false },
      { op: "groupBy", by: ["state", "date_month"], aggs: [{ column: "delay", fn: "count", as: "flights" }, { column: "delay", fn: "mean" }, { column: "state_CA", fn: "max" }] },
    ];
    const created = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "flights by state", steps: $s) { id } }`, { p: projectId, s: steps });
    const job = await run(`mutation($r: ID!, $v: ID!) { fitRecipe(recipeId: $r, versionId: $v, outputDataset: "flights-by-state") { id } }`, { r: created.data.createRecipe.id, v: flights });
    expect(job.status, job.error).toBe("succeeded");
    const page = async (offset: number) => (await t.gql(`query($id: ID!, $o: Int!) { datasetVersion(id: $id) { rowCount parentVersionIds preview(offset: $o, limit: 500) { rows } } }`, { id: job.result.versionId, o: offset })).data.datasetVersion;
    const out = await page(0);
    out.preview.rows.push(...(await page(500)).preview.rows);
    expect([...out.parentVersionIds].sort()).toEqual([flights, airports].sort());
    const lineage = await t.app.db.query("SELECT unnest(parent_version_ids)::text AS p FROM dataset_versions WHERE id = $1", [job.result.versionId]);
    expect(lineage.map((r: { p: string }) => r.p)).toContain(airports);

    // The same by hand in polars, in this process: join, month, fill, group, count and mean.
    const pl = (await import("nodejs-polars")).default;
    const states = pl.readCSV(path.join(DATA, "airports.csv")).select(pl.col("iata").alias("origin"), "state");
    const raw = pl.readParquet(path.join(DATA, "flights-3m.parquet"), { columns: ["date", "delay", "origin"] });
    const expected = raw
      .join(states, { on: "origin", how: "left" })
      .withColumns(pl.col("state").fillNull(pl.lit("unknown")), pl.col("date").dt.month().alias("date_month"), pl.col("delay").cast(pl.Float64).fillNull(pl.col("delay").cast(pl.Float64).mean()))
      .groupBy(["state", "date_month"])
      .agg(pl.len().alias("flights"), pl.col("delay").mean().alias("delay_mean"))
      .sort(["state", "date_month"]);
    expect(out.rowCount).toBe(expected.height);
    const rows = out.preview.rows as { state: string; date_month: number; flights: number; delay_mean: number; state_CA_max: number }[];
    const want = expected.toRecords() as { state: string; date_month: number; flights: number; delay_mean: number }[];
    expect(rows.map((r) => [r.state, Number(r.date_month), Number(r.flights)])).toEqual(want.map((r) => [r.state, Number(r.date_month), Number(r.flights)]));
    rows.forEach((r, i) => expect(r.delay_mean).toBeCloseTo(want[i]!.delay_mean, 9));
    expect(rows.every((r) => Number(r.state_CA_max) === (r.state === "CA" ? 1 : 0))).toBe(true);
    expect(rows.reduce((n, r) => n + Number(r.flights), 0)).toBe(3_000_000);

    // Reference data must come from the recipe's own project.
    const other = await createProject(t, "recipes-other");
    const foreign = (await run(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId: other, dataset: "airports", source: { path: path.join(DATA, "airports.csv") } } })).result.versionId;
    const refused = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "foreign join", steps: $s) { id } }`, { p: projectId, s: [{ ...steps[0], with: foreign }] });
    expect(refused.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(refused.errors?.[0].message).toMatch(/join step: dataset version .* not found in this project/);
  }, 180_000);

  it("rejects a malformed recipe with the step index, and applying an unfitted one", async () => {
    const bad = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "bad", steps: $s) { id } }`, {
      p: projectId,
      s: [{ op: "select", columns: ["a"] }, { op: "derive", column: "x", expr: "process.exit(1)" }],
    });
    expect(bad.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    expect(bad.errors?.[0].message).toMatch(/^step 1/);
    const ok = await t.gql(`mutation($p: ID!, $s: [JSONObject!]!) { createRecipe(projectId: $p, name: "unfitted", steps: $s) { id } }`, { p: projectId, s: [{ op: "drop", columns: ["Sex"] }] });
    const row = await t.gql(`query($r: ID!) { transformRow(recipeId: $r, row: {}) }`, { r: ok.data.createRecipe.id });
    expect(row.errors?.[0].extensions?.code).toBe("CONFLICT");
  });
});
