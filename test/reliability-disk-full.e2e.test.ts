import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro } from "./helpers/ouro";

// RELIABILITY.md case 18, the disk-full part: an upload that runs out of space ends cleanly
// (503, no partial file, no row) and the store keeps working. The artifact store is put on a
// 2 MiB tmpfs, which needs the right to mount (root in a container or VM); without it the test
// says so and is skipped.

function tryMountTmpfs(): string | null {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ouro-full-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
}

const mounted = tryMountTmpfs();
// Never leave the mount behind, even if the run is cut short.
if (mounted) process.once("exit", () => void execFileSync("umount", ["-l", mounted], { stdio: "ignore" }));
if (!mounted) console.warn("reliability-disk-full: cannot mount a tmpfs here (not root?); skipping the disk-full case");

describe.skipIf(!mounted)("an artifact store that runs out of space", () => {
  let t: TestOuro;
  let projectId: string;
  let base: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-disk-full", env: { OURO_ARTIFACT_DIR: mounted!, OURO_MAX_INGEST_BYTES: String(16 * 1024 * 1024) } });
    projectId = await createProject(t, "full");
    base = t.url.replace("/graphql", "");
  });
  afterAll(async () => {
    try {
      t?.http.server.closeAllConnections();
      await t?.stop();
    } finally {
      execFileSync("umount", ["-l", mounted!]);
      rmSync(mounted!, { recursive: true, force: true });
    }
  });

  const upload = async (bytes: number, fill: number) => {
    const res = await fetch(`${base}/v1/uploads?projectId=${projectId}&filename=f${fill}.csv`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "text/csv" },
      body: Buffer.alloc(bytes, fill),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };

  it("an upload larger than the free space gets 503 and leaves no partial file and no row; a small one still fits afterwards", async () => {
    const [{ n: before }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts");
    const big = await upload(3 * 1024 * 1024, 65); // 3 MiB onto a 2 MiB file system
    expect(big.status).toBe(503);
    expect(big.body.errors[0]).toMatchObject({ message: "the artifact store is out of space; nothing was stored", extensions: { code: "UNAVAILABLE" } });
    expect(big.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await readdir(path.join(mounted!, "tmp"))).toEqual([]);
    const [{ n: after }] = await t.app.db.query("SELECT count(*)::int AS n FROM artifacts");
    expect(after).toBe(before);

    // The next upload (the client reuses its connection unless told not to) is stored.
    const small = await upload(100 * 1024, 66);
    expect(small.status).toBe(201);
    expect(readdirSync(path.join(mounted!, "blobs"), { recursive: true }).length).toBeGreaterThan(0);
  });
});
