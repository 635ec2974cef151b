import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro, waitForJob } from "./helpers/ouro";

// RELIABILITY.md cases 16 (upload name traversal / overwrite), 17 (archives with ../ entries,
// symlinks, bombs), 18 (slowloris upload) and 19 (pickles are never loaded), end to end:
// real uploads into a real server, ingested by a real worker.

const DATA = path.resolve(__dirname, "../node_modules/vega-datasets/data");
const INGEST = `mutation($i: IngestDatasetInput!) { ingestDataset(input: $i) { id } }`;

describe("hostile files", () => {
  let t: TestOuro;
  let projectId: string;
  let work: string;
  let base: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-files", worker: true, env: { OURO_JOB_MAX_ATTEMPTS: "1", OURO_MAX_INGEST_BYTES: String(4 * 1024 * 1024), OURO_UPLOAD_IDLE_TIMEOUT_MS: "1000" } });
    projectId = await createProject(t, "files");
    work = await mkdtemp(path.join(os.tmpdir(), "ouro-rel-files-"));
    base = t.url.replace("/graphql", "");
  });
  afterAll(async () => {
    await t?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function upload(body: Buffer, filename: string) {
    const res = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=${encodeURIComponent(filename)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/octet-stream" },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  async function ingestUpload(dataset: string, uploadId: string) {
    const r = await t.gql(INGEST, { i: { projectId, dataset, source: { uploadId } } });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    return waitForJob(t, r.data.ingestDataset.id);
  }

  const versionsOf = async (name: string) =>
    (await t.app.db.query("SELECT v.* FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE d.name = $1 AND d.project_id = $2", [name, projectId])) as any[];

  /** Every file under the data directory, relative to it. */
  async function filesUnder(dir: string): Promise<string[]> {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  }

  it("treats an upload's file name as a label: ../ and absolute names write nowhere, and a second upload under the same name overwrites nothing", async () => {
    const first = await upload(Buffer.from("a,b\n1,2\n"), "../../../../tmp/ouro-escape.csv");
    expect(first.status).toBe(201);
    expect(first.body.name).toBe("ouro-escape.csv"); // directories stripped: the name is never a path
    const second = await upload(Buffer.from("a,b\n3,4\n"), "/etc/passwd");
    expect(second.body.name).toBe("passwd");
    const again = await upload(Buffer.from("a,b\n5,6\n"), "../../../../tmp/ouro-escape.csv");
    expect(again.status).toBe(201);
    expect(again.body.uploadId).not.toBe(first.body.uploadId);
    expect(existsSync("/tmp/ouro-escape.csv")).toBe(false);
    expect(await readFile("/etc/passwd", "utf8")).not.toContain("a,b");
    // Blobs live under their hash: the first upload's bytes are unchanged by the second.
    const blob = (sha: string) => t.app.artifacts.open(sha).then(async (s) => Buffer.concat(await s.toArray()).toString());
    expect(await blob(first.body.sha256)).toBe("a,b\n1,2\n");
    expect(await blob(again.body.sha256)).toBe("a,b\n5,6\n");
    // Only blobs, and the marker of the one-time read-only sweep (artifacts.ts).
    expect((await filesUnder(t.app.config.artifactDir)).filter((f) => f !== "blobs/.sealed").every((f) => /^blobs\/[0-9a-f]{2}\/[0-9a-f]{64}$/.test(f))).toBe(true);

    // Versions are immutable: new bytes under the same dataset are a new version; the old one is kept as it was.
    const v1 = await ingestUpload("same-name", first.body.uploadId);
    expect(v1.status).toBe("succeeded");
    const [before] = await versionsOf("same-name");
    const v2 = await ingestUpload("same-name", again.body.uploadId);
    expect(v2.status).toBe("succeeded");
    const versions = await versionsOf("same-name");
    expect(versions.map((v) => v.version).sort()).toEqual([1, 2]);
    const kept = versions.find((v) => v.version === 1);
    expect([kept.content_hash, kept.artifact_id, kept.row_count]).toEqual([before.content_hash, before.artifact_id, before.row_count]);
    expect(versions.find((v) => v.version === 2).content_hash).not.toBe(before.content_hash);
  });

  it("refuses archives without extracting them: zip and tar with ../ entries and symlinks, a zip bomb and a gzip bomb", async () => {
    // Real archives, made by the real tools, holding what an attacker would put in them.
    const src = path.join(work, "src");
    execFileSync("mkdir", ["-p", path.join(src, "inner")]);
    await writeFile(path.join(src, "inner", "table.csv"), await readFile(path.join(DATA, "seattle-weather.csv")));
    execFileSync("ln", ["-s", "/etc/passwd", path.join(src, "inner", "passwd-link.csv")]);
    const zipPath = path.join(work, "evil.zip");
    // zip stores ../ names as given with -D when run from inside; python writes the traversal entry explicitly.
    execFileSync("python3", ["-c", `
import zipfile, sys
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("../../../../tmp/ouro-zip-slip.csv", "pwned,1\\n")
    info = zipfile.ZipInfo("link.csv"); info.external_attr = (0o120777 << 16); z.writestr(info, "/etc/passwd")
    z.write(sys.argv[2], "table.csv")
`, zipPath, path.join(src, "inner", "table.csv")]);
    const tarPath = path.join(work, "evil.tar");
    execFileSync("tar", ["-cf", tarPath, "-C", src, "inner/table.csv", "inner/passwd-link.csv", "--transform", "s,^inner/table,../../../../tmp/ouro-tar-slip,"]);
    // 256 MiB (zip) and 64 MiB (gzip) of zeros compress to a few hundred KB; whoever inflates them pays the difference.
    const bombZip = path.join(work, "bomb.zip");
    execFileSync("python3", ["-c", `
import zipfile, sys
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    with z.open("zeros.csv", "w", force_zip64=True) as f:
        chunk = b"0" * (1 << 20)
        for _ in range(256): f.write(chunk)
`, bombZip]);
    const bombGz = execFileSync("python3", ["-c", "import gzip,sys; sys.stdout.buffer.write(gzip.compress(b'0' * (64 << 20), 9))"], { maxBuffer: 16 << 20 });

    const cases: [string, Buffer, string, RegExp][] = [
      ["zip-slip", await readFile(zipPath), "data.csv", /zip archive; extract the table first/],
      ["zip-as-zip", await readFile(zipPath), "data.zip", /zip archive; extract the table first/],
      ["tar-slip", await readFile(tarPath), "data.csv", /looks like binary data, not a table format/],
      ["zip-bomb", await readFile(bombZip), "zeros.csv", /zip archive; extract the table first/],
      ["gzip-bomb", bombGz, "zeros.csv.gz", /gzip-compressed; decompress it first/],
    ];
    for (const [name, bytes, filename, message] of cases) {
      const up = await upload(bytes, filename);
      expect(up.status, name).toBe(201);
      const job = await ingestUpload(name, up.body.uploadId);
      expect(job.status, name).toBe("failed");
      expect(job.error, name).toMatch(message);
      expect(await versionsOf(name), name).toEqual([]);
    }
    expect(existsSync("/tmp/ouro-zip-slip.csv")).toBe(false);
    expect(existsSync("/tmp/ouro-tar-slip.csv")).toBe(false);
    // Nothing was unpacked anywhere under the data directory either: only blobs, no temp files.
    const files = await filesUnder(t.app.config.dataDir);
    expect(files.filter((f) => !f.startsWith(path.relative(t.app.config.dataDir, t.app.config.artifactDir) + "/blobs/"))).toEqual([]);
  }, 120_000);

  it("never loads a pickle: a pickle whose loading would run a command is refused and the command never runs", async () => {
    const marker = path.join(work, "pickle-ran");
    const pickle = execFileSync("python3", ["-c", `
import os, pickle, sys
class Boom:
    def __reduce__(self): return (os.system, ("touch " + sys.argv[1],))
sys.stdout.buffer.write(pickle.dumps(Boom(), protocol=4))
`, marker]);
    for (const filename of ["model.pkl", "data.csv"]) {
      const up = await upload(pickle, filename);
      const job = await ingestUpload(`pickle-${filename}`, up.body.uploadId);
      expect(job.status).toBe("failed");
      expect(job.error).toMatch(/Python pickle, which is never loaded/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("stops a streamed upload (no Content-Length) at the size limit with 413, keeps nothing, and the client's next upload works", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    const chunk = Buffer.alloc(256 * 1024, 66);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 6 * 1024 * 1024) return controller.close(); // 6 MiB against a 4 MiB limit
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=stream.csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "text/csv" },
      body,
      duplex: "half",
      signal: AbortSignal.timeout(30_000),
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    const tmpFiles = () => readdir(path.join(t.app.config.artifactDir, "tmp")).catch(() => [] as string[]);
    for (let i = 0; i < 100 && (await tmpFiles()).length > 0; i++) await sleep(50);
    expect(await tmpFiles()).toEqual([]);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    expect(after).toBe(before);
    // Before the fix, the server kept this connection open with the rest of the body unread,
    // and the client's next request on it never got an answer.
    const next = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=next.csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "text/csv" },
      body: "a,b\n1,2\n",
      signal: AbortSignal.timeout(20_000),
    });
    expect(next.status).toBe(201);
  });

  it("aborts an upload that stops sending (slowloris): the connection is closed, no partial file and no row stay behind", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    const { port } = new URL(base);
    const closed = await new Promise<{ response: string }>((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1");
      let response = "";
      socket.on("data", (d) => (response += d.toString()));
      socket.on("close", () => resolve({ response }));
      socket.on("error", () => undefined);
      socket.setTimeout(15_000, () => reject(new Error("the server kept the stalled upload open")));
      socket.on("connect", async () => {
        socket.write(
          `POST /v1/uploads?projectId=${projectId}&filename=slow.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminToken}\r\n` +
            `Content-Type: text/csv\r\nContent-Length: 1000000\r\n\r\n`,
        );
        // A few bytes, slowly, then nothing at all.
        for (let i = 0; i < 3; i++) {
          socket.write("a,b\n");
          await sleep(200);
        }
      });
    });
    expect(closed.response).not.toMatch(/^HTTP\/1\.1 201/);
    // The partial file is removed (right after the abort, so allow the server a moment) and no row was written.
    const tmpFiles = () => readdir(path.join(t.app.config.artifactDir, "tmp")).catch(() => [] as string[]);
    for (let i = 0; i < 100 && (await tmpFiles()).length > 0; i++) await sleep(50);
    expect(await tmpFiles()).toEqual([]);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts WHERE kind = 'upload'");
    expect(after).toBe(before);
    // The server still takes uploads.
    expect((await upload(Buffer.from("a,b\n1,2\n"), "after.csv")).status).toBe(201);
  });
});
