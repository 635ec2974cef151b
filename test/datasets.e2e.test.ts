import { createServer, type Server } from "node:http";
import { readdir, readFile, stat } from "node:fs/promises";
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
    const tagged = await t.gql(INGEST, { i: { projectId, dataset: "weather", source: { path: path.join(DATA, "seattle-weather.csv") }, tags: ["raw", "2012-2015"] } });
    const fromPath = await finished(tagged.data.ingestDataset.id);
    expect(fromPath.result).toMatchObject({ rowCount: 1461 });
    // The version records its tags, where it came from, and the stored Parquet's size and hash.
    const stored = (await t.gql(`query($id: ID!) { datasetVersion(id: $id) { tags source byteSize contentHash } }`, { id: fromPath.result.versionId })).data.datasetVersion;
    expect(stored.tags).toEqual(["raw", "2012-2015"]);
    expect(stored.source).toMatchObject({ kind: "path", path: path.join(DATA, "seattle-weather.csv") });
    const blob = await t.app.artifacts.localPath(stored.contentHash);
    expect(stored.byteSize).toBe((await stat(blob)).size);
    expect((await readFile(blob)).subarray(0, 4).toString()).toBe("PAR1");
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
      ["traversal", { path: `${DATA}/..%2f..%2fpackage.json` }, /path ".*\/\.\.%2f\.\.%2fpackage\.json" is refused: it contains a percent-encoded sequence/],
      ["sqlwrite", { sql: { source: "self", query: "DELETE FROM jobs" } }, /read-only|read only/i],
      ["nosource", { sql: { source: "nope", query: "SELECT 1" } }, /no SQL source named nope/],
      ["badjson", { uploadId: (await upload(Buffer.from('[{"a": 1}, {"a": '), "bad.json")).body.uploadId }, /^file bad\.json is not valid JSON at line 1, column \d+/],
      ["badparquet", { uploadId: (await upload((await readFile(path.join(DATA, "flights-3m.parquet"))).subarray(0, 4096), "cut.parquet")).body.uploadId }, /^file cut\.parquet is truncated: .*PAR1 marker/],
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

  it("reads a latin1, ';'-delimited csv without a header and with an NA null marker when format says so", async () => {
    const rows = ["Café crème;3.5;“très bon” – 5 €", "Brötchen;NA;NA", "Pâté;12.25;l’été"];
    const bytes = windows1252(rows.join("\r\n") + "\r\n");
    expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes), "the file is not UTF-8").toThrow();
    const up = await upload(bytes, "prix.csv");
    const format = { format: "csv", delimiter: ";", encoding: "latin1", nullValues: ["NA"], header: false };
    const job = await ingest("prix", { uploadId: up.body.uploadId }, format);
    expect(job.error).toBeNull();
    expect(job.result).toMatchObject({ rowCount: 3 });
    const v = await t.gql(`query($id: ID!) { datasetVersion(id: $id) { schema { name type nullable } source preview { columns rows } } }`, { id: job.result.versionId });
    const dv = v.data.datasetVersion;
    expect(dv.schema).toEqual([
      { name: "column_1", type: "String", nullable: false },
      { name: "column_2", type: "Float64", nullable: true },
      { name: "column_3", type: "String", nullable: true },
    ]);
    expect(dv.preview.rows).toEqual([
      { column_1: "Café crème", column_2: 3.5, column_3: "“très bon” – 5 €" },
      { column_1: "Brötchen", column_2: null, column_3: null },
      { column_1: "Pâté", column_2: 12.25, column_3: "l’été" },
    ]);
    expect(dv.source.format).toEqual(format);
  });

  it("fails on a column that turns to text after the default inference window, naming column and row, and reads it with a larger inferSchemaRows", async () => {
    const lines = ["id,n"];
    for (let i = 1; i <= 10_010; i++) lines.push(`${i},${i * 7}`);
    lines.push("10011,hello", "10012,12");
    const up = await upload(Buffer.from(lines.join("\n") + "\n"), "mixed.csv");
    const failed = await ingest("mixed", { uploadId: up.body.uploadId }, { format: "csv" });
    expect(failed.status).toBe("failed");
    expect(failed.error).toMatch(/^file mixed\.csv row 10011, column 'n': "hello" is not a \w+ like the values before it .*larger inferSchemaRows/);
    expect(await versionsOf("mixed")).toHaveLength(0);

    const read = await ingest("mixed", { uploadId: up.body.uploadId }, { format: "csv", inferSchemaRows: 20_000 });
    expect(read.error).toBeNull();
    expect(read.result).toMatchObject({ rowCount: 10_012 });
    const v = await t.gql(`query($id: ID!) { datasetVersion(id: $id) { schema { name type nullable } preview(offset: 10009, limit: 2) { rows } } }`, { id: read.result.versionId });
    expect(v.data.datasetVersion.schema).toEqual([
      { name: "id", type: "Int64", nullable: false },
      { name: "n", type: "String", nullable: false },
    ]);
    expect(v.data.datasetVersion.preview.rows).toEqual([{ id: 10_010, n: "70070" }, { id: 10_011, n: "hello" }]);
  });

  it("refuses format options it cannot honour before queueing a job", async () => {
    const source = { path: path.join(DATA, "seattle-weather.csv") };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: "csv", inferSchemaRows: -1 }, /format\.inferSchemaRows must be from 0 to 10000000/],
      [{ format: "csv", inferSchemaRows: 10_000_001 }, /format\.inferSchemaRows must be from 0 to 10000000/],
      [{ format: "csv", encoding: "cp1252" }, /"cp1252" does not exist in "TextEncoding" enum/],
      [{ format: "json", delimiter: ";" }, /delimiter applies to csv and tsv only, not json/],
    ];
    const jobsBefore = await t.app.db.query("SELECT count(*)::int AS n FROM jobs");
    for (const [format, message] of cases) {
      const r = await t.gql(INGEST, { i: { projectId, dataset: "refused", source, format } });
      expect(r.data?.ingestDataset, JSON.stringify(format)).toBeFalsy();
      expect(r.errors?.[0]?.extensions?.code, JSON.stringify(format)).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message, JSON.stringify(format)).toMatch(message);
    }
    const jobsAfter = await t.app.db.query("SELECT count(*)::int AS n FROM jobs");
    expect(jobsAfter[0].n).toBe(jobsBefore[0].n);
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
  // Only the first hop is tried here. Redirects to a private address are covered by
  // fetch-url.test.ts through its DNS seam, and through a job by ingest-url.e2e.test.ts, where
  // an allowed host (OURO_INGEST_ALLOWED_HOSTS) plays the server that redirects.
  it("refuses loopback and link-local URLs on the first hop, naming the address, without connecting", async () => {
    const t = await startTestOuro({ label: "ssrf", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1" } });
    let requests = 0;
    const web = createServer((_req, res) => {
      requests++;
      res.end("a,b\n1,2\n");
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const projectId = await createProject(t, "ssrf");
      const port = (web.address() as { port: number }).port;
      const cases: [string, RegExp][] = [
        [`http://127.0.0.1:${port}/data.csv`, /URL http:\/\/127\.0\.0\.1:\d+\/data\.csv is refused: 127\.0\.0\.1 is not a public address \(loopback\)/],
        [`http://localhost:${port}/x.csv`, /URL http:\/\/localhost:\d+\/x\.csv is refused: localhost resolves to (127\.0\.0\.1|::1), which is not a public address \(loopback/],
        ["http://169.254.169.254/latest/meta-data/", /169\.254\.169\.254 is not a public address \(link-local/],
        ["http://[::1]/x", /::1 is not a public address \(loopback/],
        ["http://2130706433/x", /127\.0\.0\.1 is not a public address \(loopback\)/],
      ];
      for (const [url, message] of cases) {
        const r = await t.gql(`mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`, { i: { projectId, dataset: "x", source: { url } } });
        let job: any;
        for (let i = 0; i < 100; i++) {
          job = (await t.gql(`query($id: ID!) { job(id: $id) { status error } }`, { id: r.data.ingestDataset.id })).data.job;
          if (job.status === "failed" || job.status === "succeeded") break;
          await sleep(100);
        }
        expect(job.status, url).toBe("failed");
        expect(job.error, url).toMatch(message);
      }
      expect(requests).toBe(0);
      const versions = await t.app.db.query("SELECT count(*)::int AS n FROM dataset_versions");
      expect(versions[0].n).toBe(0);
    } finally {
      web.close();
      await t.stop();
    }
  });
});

/** Text as Windows-1252 bytes (what "latin1" files usually are); throws on characters it lacks. */
function windows1252(text: string): Buffer {
  const extra: Record<string, number> = { "€": 0x80, "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "–": 0x96, "—": 0x97 };
  return Buffer.from(
    [...text].map((ch) => {
      const code = extra[ch] ?? ch.charCodeAt(0);
      if (code > 0xff || (code >= 0x80 && code < 0xa0 && !(ch in extra))) throw new Error(`no Windows-1252 byte for ${ch}`);
      return code;
    }),
  );
}
