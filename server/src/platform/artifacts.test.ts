import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { access, open, readdir, readFile, stat, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalArtifactStore } from "./artifacts";

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();

let root: string;
let store: LocalArtifactStore;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "ouro-artifacts-"));
  store = new LocalArtifactStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("LocalArtifactStore", () => {
  it("names a blob by the SHA-256 of its bytes and reads the same bytes back", async () => {
    const bytes = Buffer.from("species,mass\nAdelie,3750\n");
    const blob = await store.put([bytes]);
    expect(blob).toEqual({ sha256: sha(bytes), byteSize: bytes.length });
    expect(await store.has(blob.sha256)).toBe(true);
    expect(await buffer(await store.open(blob.sha256))).toEqual(bytes);
    expect(await readFile(await store.localPath(blob.sha256))).toEqual(bytes);
  });

  it("stores the same bytes twice as one blob, however they arrive", async () => {
    const a = await store.put(["hello ", "world"]);
    const b = await store.put(Readable.from([Buffer.from("hello"), Buffer.from(" world")]));
    expect(b).toEqual(a);
    expect(a.sha256).toBe(sha("hello world"));
    expect(filesUnder(root)).toEqual([path.join("blobs", a.sha256.slice(0, 2), a.sha256)]);
    const c = await store.put(["hello world!"]);
    expect(c.sha256).not.toBe(a.sha256);
    expect(filesUnder(root)).toHaveLength(2);
  });

  it("stores empty content", async () => {
    const blob = await store.put([]);
    expect(blob).toEqual({ sha256: sha(""), byteSize: 0 });
    expect(await buffer(await store.open(blob.sha256))).toHaveLength(0);
  });

  it("refuses addresses that are not 64 lowercase hex characters, even when a file is there", async () => {
    const good = sha("x");
    // Unchecked, "./x" would resolve to <root>/blobs/./x: put a file there to be sure it is not read.
    mkdirSync(path.join(root, "blobs"));
    writeFileSync(path.join(root, "blobs", "x"), "not a blob");
    const bad = ["./x", "../x", "../../etc/passwd", good.toUpperCase(), good.slice(0, 63), `${good}0`, `${good.slice(0, 63)}g`, `${good.slice(0, 62)}/x`, "", `../${good.slice(3)}`];
    for (const address of bad) {
      await expect(store.open(address), address).rejects.toThrow("artifact address must be a lowercase hex SHA-256");
      await expect(store.localPath(address), address).rejects.toThrow("artifact address must be a lowercase hex SHA-256");
      await expect(store.has(address), address).rejects.toThrow("artifact address must be a lowercase hex SHA-256");
    }
    // A well-formed address that was never stored is simply absent.
    expect(await store.has(good)).toBe(false);
    await expect(store.localPath(good)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("past maxBytes throws PAYLOAD_TOO_LARGE and keeps nothing: no temporary file, no blob", async () => {
    const chunk = Buffer.alloc(1024, 7);
    await expect(store.put([chunk, chunk, chunk], { maxBytes: 2048 })).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(filesUnder(root)).toEqual([]);
    expect(await readdir(path.join(root, "tmp"))).toEqual([]);
    expect(await store.has(sha(Buffer.concat([chunk, chunk, chunk])))).toBe(false);
    // Exactly the limit is allowed.
    const blob = await store.put([chunk, chunk], { maxBytes: 2048 });
    expect(blob.byteSize).toBe(2048);
    expect(filesUnder(root)).toEqual([path.join("blobs", blob.sha256.slice(0, 2), blob.sha256)]);
  });

  it("a failing source keeps nothing either", async () => {
    async function* broken() {
      yield Buffer.from("half of it");
      throw new Error("connection reset");
    }
    await expect(store.put(broken())).rejects.toThrow("connection reset");
    expect(filesUnder(root)).toEqual([]);
  });

  it("stored blobs are read-only, including when the same bytes are stored again", async () => {
    const blob = await store.put(["immutable"]);
    const file = await store.localPath(blob.sha256);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    await store.put(["immutable"]);
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    if (process.getuid?.() !== 0) await expect(open(file, "r+")).rejects.toMatchObject({ code: "EACCES" });
    // Removing a blob needs write permission on its directory only.
    await unlink(file);
    expect(await store.has(blob.sha256)).toBe(false);
    await expect(access(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a blob an older version stored writable (0644) is read-only after the same bytes are put again", async () => {
    const bytes = "stored before blobs were read-only";
    const file = path.join(root, "blobs", sha(bytes).slice(0, 2), sha(bytes));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, bytes, { mode: 0o644 });
    expect((await stat(file)).mode & 0o777).toBe(0o644);
    expect(await store.put([bytes])).toEqual({ sha256: sha(bytes), byteSize: bytes.length });
    expect((await stat(file)).mode & 0o777).toBe(0o444);
    expect(await readFile(file, "utf8")).toBe(bytes);
    expect(filesUnder(root)).toEqual([path.relative(root, file)]);
  });

  it("seals blobs older versions left writable once per store, without touching their bytes", async () => {
    const old = ["written by an older version", "and another one"].map((bytes) => {
      const file = path.join(root, "blobs", sha(bytes).slice(0, 2), sha(bytes));
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, bytes, { mode: 0o644 });
      return { file, bytes };
    });
    const fresh = await store.put(["stored read-only already"]);
    expect(await store.sealOldBlobs()).toBe(2);
    for (const { file, bytes } of old) {
      expect((await stat(file)).mode & 0o777).toBe(0o444);
      expect(await readFile(file, "utf8")).toBe(bytes);
    }
    expect((await stat(await store.localPath(fresh.sha256))).mode & 0o777).toBe(0o444);
    // Done once: a second start does not walk the store again.
    writeFileSync(old[0].file + ".stray", "x", { mode: 0o644 });
    expect(await store.sealOldBlobs()).toBe(0);
    expect(await new LocalArtifactStore(path.join(root, "empty")).sealOldBlobs()).toBe(0);
  });

  it.runIf(process.getuid?.() === 0)("as a user other than root, a blob cannot be opened for writing but can be removed", async () => {
    // The server runs as an unprivileged user owning the store (see the Dockerfile); root
    // ignores file modes, so the check runs in a child process as nobody.
    const blob = await store.put(["owned by the server user"]);
    const file = await store.localPath(blob.sha256);
    const nobody = 65534;
    for (const p of [root, ...readdirSync(root, { recursive: true }).map((p) => path.join(root, String(p)))]) chownSync(p, nobody, nobody);
    const script = `
      const fs = require("node:fs");
      const file = process.argv[1];
      let write = "opened";
      try { fs.openSync(file, "r+"); } catch (e) { write = e.code; }
      fs.unlinkSync(file);
      console.log(JSON.stringify({ write, exists: fs.existsSync(file) }));`;
    const r = spawnSync(process.execPath, ["-e", script, file], { uid: nobody, gid: nobody, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ write: "EACCES", exists: false });
  });
});
