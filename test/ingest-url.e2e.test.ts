// URL ingestion through the real `ingestDataset` mutation and its job, with private addresses
// refused except the allowed ones (OURO_INGEST_ALLOWED_HOSTS) and an https server whose
// certificate a private CA signs (OURO_INGEST_CA_FILE). Linux answers on all of 127.0.0.0/8,
// so 127.0.0.2 plays an internal data server and 127.0.0.1 the machine Ouro runs on.
// Tried: the allowed host over http and https; a redirect from it to 127.0.0.1 (refused,
// naming the hop, never dialled, no version); the same https URL without the CA (refused,
// naming the certificate's host, no version).
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";
import { makeTestCa } from "./helpers/test-ca";

const WEATHER = path.resolve(__dirname, "../node_modules/vega-datasets/data/seattle-weather.csv");
const INGEST = `mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`;

let caDir: string;
let caFile: string;
let internal: Server; // http on 127.0.0.2
let internalTls: Server; // https on 127.0.0.2, certificate signed by the test CA
let loopback: Server; // http on 127.0.0.1: what a redirect must not reach
let loopbackRequests = 0;
let httpBase: string;
let httpsBase: string;

beforeAll(async () => {
  caDir = await mkdtemp(path.join(os.tmpdir(), "ouro-ingest-ca-"));
  const ca = makeTestCa(caDir, "IP:127.0.0.2");
  caFile = ca.caFile;
  const weather = await readFile(WEATHER);
  loopback = createServer((_req, res) => {
    loopbackRequests++;
    res.writeHead(200, { "content-type": "text/csv" }).end(weather);
  });
  const listen = (server: Server, host: string) => new Promise<number>((resolve) => server.listen(0, host, () => resolve((server.address() as AddressInfo).port)));
  const loopbackPort = await listen(loopback, "127.0.0.1");
  const serve: Parameters<typeof createServer>[1] = (req, res) => {
    if (req.url === "/weather.csv") return res.writeHead(200, { "content-type": "text/csv" }).end(weather);
    if (req.url === "/to-loopback") return res.writeHead(302, { location: `http://127.0.0.1:${loopbackPort}/weather.csv` }).end();
    res.writeHead(404).end();
  };
  internal = createServer(serve);
  internalTls = createHttpsServer({ cert: ca.cert, key: ca.key }, serve);
  httpBase = `http://127.0.0.2:${await listen(internal, "127.0.0.2")}`;
  httpsBase = `https://127.0.0.2:${await listen(internalTls, "127.0.0.2")}`;
});

afterAll(async () => {
  for (const server of [internal, internalTls, loopback]) {
    server?.closeAllConnections();
    server?.close();
  }
  await rm(caDir, { recursive: true, force: true });
});

/** Starts the ingest job and waits for it; returns the job and the dataset's versions. */
async function ingestUrl(t: TestOuro, projectId: string, dataset: string, url: string) {
  const r = await t.gql(INGEST, { i: { projectId, dataset, source: { url } } });
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  const job = await waitForJob(t, r.data.ingestDataset.id);
  const versions = await t.app.db.query(
    "SELECT v.id FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = $1 AND d.project_id = $2",
    [dataset, projectId],
  );
  return { job, versions: versions as unknown[] };
}

describe("URL ingestion with 127.0.0.2/32 allowed and the private CA configured", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({
      label: "ingest_url",
      worker: true,
      env: { OURO_INGEST_ALLOWED_HOSTS: "127.0.0.2/32", OURO_INGEST_CA_FILE: caFile, OURO_JOB_MAX_ATTEMPTS: "1" },
    });
    projectId = await createProject(t, "ingest-url");
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("ingests from the allowed host over http", async () => {
    const { job, versions } = await ingestUrl(t, projectId, "weather-http", `${httpBase}/weather.csv`);
    expect(job.error).toBeNull();
    expect(job.status).toBe("succeeded");
    expect(job.result).toMatchObject({ version: 1, created: true, rowCount: 1461 });
    expect(versions).toHaveLength(1);
  });

  it("fails a redirect from the allowed host to 127.0.0.1, naming the hop and why, without dialling it or keeping a version", async () => {
    loopbackRequests = 0;
    const { job, versions } = await ingestUrl(t, projectId, "weather-redirected", `${httpBase}/to-loopback`);
    expect(job.status).toBe("failed");
    expect(job.error).toMatch(
      /redirect 1 \(from http:\/\/127\.0\.0\.2:\d+\/to-loopback to http:\/\/127\.0\.0\.1:\d+\/weather\.csv\) is refused: 127\.0\.0\.1 is not a public address \(loopback\) and not among the allowed hosts/,
    );
    expect(loopbackRequests).toBe(0);
    expect(versions).toEqual([]);
  });

  it("ingests over https from a server whose certificate the configured CA signs", async () => {
    const { job, versions } = await ingestUrl(t, projectId, "weather-https", `${httpsBase}/weather.csv`);
    expect(job.error).toBeNull();
    expect(job.status).toBe("succeeded");
    expect(job.result).toMatchObject({ rowCount: 1461 });
    expect(versions).toHaveLength(1);
  });
});

describe("URL ingestion over https without the private CA", () => {
  it("fails the job saying the certificate of 127.0.0.2 is not trusted, and keeps no version", async () => {
    const t = await startTestOuro({ label: "ingest_url_noca", worker: true, env: { OURO_INGEST_ALLOWED_HOSTS: "127.0.0.2/32", OURO_JOB_MAX_ATTEMPTS: "1" } });
    try {
      const projectId = await createProject(t, "ingest-url-noca");
      const { job, versions } = await ingestUrl(t, projectId, "weather-https", `${httpsBase}/weather.csv`);
      expect(job.status).toBe("failed");
      expect(job.error).toMatch(/download from https:\/\/127\.0\.0\.2:\d+\/weather\.csv failed: the certificate of 127\.0\.0\.2 is not signed by a trusted CA .*OURO_INGEST_CA_FILE/);
      expect(versions).toEqual([]);
    } finally {
      await t.stop();
    }
  });
});
