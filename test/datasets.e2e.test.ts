import { createServer, type Server } from "node:http";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const INGEST = `mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id status } }`;

describe("dataset catalogue", () => {
  let t: TestOuro;
  let projectId: string;
  let web: Server;
  let webUrl: string;
  beforeAll(async () => {
    t = await startTestOuro({
      label: "datasets",
      worker: true,
      env: {
        OURO_INGEST_ROOTS: DATA,
        OURO_INGEST_ALLOW_PRIVATE_URLS: "true",
        OURO_MAX_INGEST_BYTES: String(5 * 1024 * 1024),
        OURO_JOB_MAX_ATTEMPTS: "1",
      },
    });
    t.app.config.ingest.sqlSources.self = t.databaseUrl;
    projectId = await createProject(t, "data");
    // A local web server for URL ingestion (loopback only; allowed by configuration here).
    web = createServer(async (req, res) => {
      if (req.url === "/weather.csv") return res.end(await readFile(path.join(DATA, "seattle-weather.csv")));
      if (req.url === "/moved") {
        res.writeHead(302, { location: "/weather.csv" });
        return res.end();
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    webUrl = `http://127.0.0.1:${(web.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    web?.close();
    await t?.stop();
  });

  async function upload(file: string | Buffer, name: string, token = t.adminToken, project = projectId) {
    const body = typeof file === "string" ? await readFile(file) : file;
    const res = await fetch(`${t.url.replace("/graphql", "")}/v1/uploads?projectId=${project}&filename=${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream" },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  const finished = (jobId: string, timeoutMs?: number) => waitForJob(t, jobId, timeoutMs);

  async function ingest(dataset: string, source: Record<string, unknown>, format?: Record<string, unknown>) {
    const r = await t.gql(INGEST, { i: { projectId, dataset, source, format } });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return finished(r.data.ingestDataset.id);
  }

  const versionsOf = async (name: string) =>
    (await t.app.db.query("SELECT v.* FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = $1 AND d.project_id = $2", [name, projectId])) as any[];

  it("ingests an upload as a Parquet version with schema, and the same content again as the same version", async () => {
    const up = await upload(path.join(DATA, "penguins.json"), "penguins.json");
    expect(up.status).toBe(201);
    const job = await ingest("penguins", { uploadId: up.body.uploadId });
    expect(job.status).toBe("succeeded");
    expect(job.result).toMatchObject({ version: 1, created: true, rowCount: 344 });
    const v = await t.gql(`query($id: ID!) { datasetVersion(id: $id) { version rowCount contentHash schema { name type nullable } preview(limit: 3) { columns rows totalRows } } }`, { id: job.result.versionId });
    const dv = v.data.datasetVersion;
    expect(dv.schema).toContainEqual({ name: "Beak Length (mm)", type: "Float64", nullable: true });
    expect(dv.preview.rows).toHaveLength(3);
    expect(dv.preview.rows[0].Species).toBe("Adelie");
    expect(dv.preview.totalRows).toBe(344);

    const again = await ingest("penguins", { uploadId: (await upload(path.join(DATA, "penguins.json"), "copy.json")).body.uploadId });
    expect(again.result).toMatchObject({ versionId: job.result.versionId, version: 1, created: false });
    expect(await versionsOf("penguins")).toHaveLength(1);
  });

  it("profiles a version and checks expectations", async () => {
    const [v] = await versionsOf("penguins");
    const r = await t.gql(`mutation($v: ID!, $e: [ExpectationInput!]) { profileDataset(versionId: $v, expectations: $e) { id } }`, {
      v: v.id,
      e: [{ kind: "notNull", column: "Sex" }, { kind: "allowedSet", column: "Species", values: ["Adelie", "Gentoo", "Chinstrap"] }, { kind: "range", column: "Body Mass (g)", min: 2000, max: 7000 }],
    });
    const job = await finished(r.data.profileDataset.id);
    expect(job.error).toBeNull();
    expect(job.status).toBe("succeeded");
    const p = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { profile } }`, { id: v.id })).data.datasetVersion.profile;
    const mass = p.columns.find((c: { name: string }) => c.name === "Body Mass (g)");
    expect(mass.nulls).toBe(2);
    expect(mass.numeric.min).toBe(2700);
    expect(mass.numeric.max).toBe(6300);
    expect(mass.numeric.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(342);
    const species = p.columns.find((c: { name: string }) => c.name === "Species");
    expect(species.categorical.top[0]).toEqual({ value: "Adelie", count: 152 });
    expect(p.quality.passed).toBe(false);
    expect(p.quality.results.map((x: { passed: boolean }) => x.passed)).toEqual([false, true, true]);
  });

  it("ingests from a server path inside the allowed roots, a URL (following a redirect) and SQL", async () => {
    const fromPath = await ingest("weather", { path: path.join(DATA, "seattle-weather.csv") });
    expect(fromPath.result).toMatchObject({ rowCount: 1461 });
    const fromUrl = await ingest("weather", { url: `${webUrl}/moved` });
    expect(fromUrl.result).toMatchObject({ versionId: fromPath.result.versionId, created: false }); // same bytes, same version
    const fromSql = await ingest("jobs-table", { sql: { source: "self", query: "SELECT kind, status, progress, created_at FROM jobs" } });
    expect(fromSql.status).toBe("succeeded");
    expect(fromSql.result.rowCount).toBeGreaterThan(0);
  });

  it("fails clearly and registers nothing for paths outside the roots, hostile SQL, malformed and empty files", async () => {
    const cases: [string, Record<string, unknown>, RegExp, Record<string, unknown>?][] = [
      ["escape", { path: path.join(DATA, "../../../package.json") }, /not (inside|allowed)|outside/i],
      ["escape2", { path: "/etc/passwd" }, /not (inside|allowed)|outside/i],
      ["traversal", { path: `${DATA}/..%2f..%2fpackage.json` }, /./],
      ["sqlwrite", { sql: { source: "self", query: "DELETE FROM jobs" } }, /read-only|read only/i],
      ["nosource", { sql: { source: "nope", query: "SELECT 1" } }, /no SQL source named nope/],
      ["badjson", { uploadId: (await upload(Buffer.from('[{"a": 1}, {"a": '), "bad.json")).body.uploadId }, /./],
      ["badparquet", { uploadId: (await upload((await readFile(path.join(DATA, "flights-3m.parquet"))).subarray(0, 4096), "cut.parquet")).body.uploadId }, /./],
    ];
    for (const [name, source, message] of cases) {
      const job = await ingest(name, source);
      expect(job.status, name).toBe("failed");
      expect(job.error, name).toMatch(message);
      expect(job.error, name).not.toMatch(/at \w+ \(|\.ts:\d+/);
      expect(await versionsOf(name), name).toHaveLength(0);
    }
    const leftovers = await readdir(path.join(t.app.config.dataDir, "tmp")).catch(() => []);
    expect(leftovers).toEqual([]);
  });

  it("refuses uploads without a token, too large, empty, or into another project", async () => {
    const base = t.url.replace("/graphql", "");
    const noToken = await fetch(`${base}/v1/uploads?projectId=${projectId}`, { method: "POST", body: "a,b\n1,2\n" });
    expect(noToken.status).toBe(401);
    const before = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    const big = await upload(Buffer.alloc(6 * 1024 * 1024, 65), "big.csv");
    expect(big.status).toBe(413);
    const empty = await upload(Buffer.alloc(0), "empty.csv");
    expect(empty.status).toBe(400);
    const bob = await newUserToken(t, "bob-data@example.com");
    const foreign = await upload(Buffer.from("a\n1\n"), "x.csv", bob);
    expect(foreign.status).toBe(404);
    const after = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    expect(after[0].n).toBe(before[0].n);
    const tmp = await readdir(path.join(t.app.config.artifactDir, "tmp")).catch(() => []);
    expect(tmp).toEqual([]);
  });

  it("lists datasets with their versions", async () => {
    const r = await t.gql(`query($p: ID!) { datasets(projectId: $p, first: 50) { nodes { name latestVersion { version rowCount } versions { totalCount } } } }`, { p: projectId });
    const penguins = r.data.datasets.nodes.find((d: { name: string }) => d.name === "penguins");
    expect(penguins).toEqual({ name: "penguins", latestVersion: { version: 1, rowCount: 344 }, versions: { totalCount: 1 } });
  });
});

describe("URL ingestion with the default address policy", () => {
  it("refuses loopback targets and redirects to them, naming the address", async () => {
    const t = await startTestOuro({ label: "ssrf", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1" } });
    const web = createServer((req, res) => {
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" });
      res.end();
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const projectId = await createProject(t, "ssrf");
      const port = (web.address() as { port: number }).port;
      for (const url of [`http://127.0.0.1:${port}/data.csv`, `http://localhost:${port}/x.csv`, "http://169.254.169.254/latest/meta-data/", "http://[::1]/x", "http://2130706433/x"]) {
        const r = await t.gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "x", source: { url } } });
        let job: any;
        for (let i = 0; i < 100; i++) {
          job = (await t.gql(`query($id: ID!) { job(id: $id) { status error } }`, { id: r.data.ingestDataset.id })).data.job;
          if (job.status === "failed" || job.status === "succeeded") break;
          await sleep(100);
        }
        expect(job.status, url).toBe("failed");
        expect(job.error, url).toMatch(/loopback|private|link-local|not allowed|refus|blocked/i);
      }
      const versions = await t.app.db.query("SELECT count(*)::int AS n FROM dataset_versions");
      expect(versions[0].n).toBe(0);
    } finally {
      web.close();
      await t.stop();
    }
  });
});
