import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { access, chmod, constants, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { OuroError } from "./errors";

export interface StoredBlob {
  sha256: string;
  byteSize: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed, immutable files. Callers never pass a path: a blob is named by the
 * SHA-256 of its bytes, so there is nothing to traverse and nothing to overwrite. Writes go
 * to a temporary file first and are renamed into place only when complete, already read-only:
 * nothing (short of root) can rewrite a stored blob. Removing one still works, since unlinking
 * needs write permission on the directory, not on the file.
 */
export type BlobContent = Readable | Iterable<Buffer | string> | AsyncIterable<Buffer | string>;

export interface ArtifactStore {
  /** Stores the bytes; past `maxBytes` it stops, keeps nothing and throws PAYLOAD_TOO_LARGE. */
  put(content: BlobContent, opts?: { maxBytes?: number }): Promise<StoredBlob>;
  open(sha256: string): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  /** A local file with the blob's bytes, for tools that read paths (polars). Do not modify it. */
  localPath(sha256: string): Promise<string>;
}

export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  async put(content: BlobContent, opts: { maxBytes?: number } = {}): Promise<StoredBlob> {
    const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
    const tmpDir = path.join(this.root, "tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, randomUUID());
    const hash = createHash("sha256");
    let byteSize = 0;
    try {
      await pipeline(
        content instanceof Readable ? content : Readable.from(content),
        async function* (source: AsyncIterable<Buffer | string>) {
          for await (const chunk of source) {
            const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            hash.update(buf);
            byteSize += buf.length;
            if (byteSize > maxBytes) throw new OuroError("PAYLOAD_TOO_LARGE", `content larger than ${maxBytes} bytes`);
            yield buf;
          }
        },
        createWriteStream(tmp, { flags: "wx" }),
      );
      const sha256 = hash.digest("hex");
      const final = this.pathOf(sha256);
      await mkdir(path.dirname(final), { recursive: true });
      await chmod(tmp, 0o444); // before the rename, so the blob is never writable under its name
      // Same bytes under the same name: replacing is harmless, and it is what turns a blob an
      // older version stored writable (0644) read-only. A shortcut that skips the rename when
      // the blob exists would have to chmod it instead.
      await rename(tmp, final);
      return { sha256, byteSize };
    } catch (err) {
      // A full disk is the operator's to fix and the client's to retry later, not a bug.
      const code = (err as { code?: string }).code;
      if (code === "ENOSPC" || code === "EDQUOT") throw new OuroError("UNAVAILABLE", "the artifact store is out of space; nothing was stored");
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * Makes blobs that older versions stored writable (0644) read-only, once per store: a marker
   * file records that the sweep is done. Run in the background at start; safe to run twice.
   * Returns how many blobs it changed.
   */
  async sealOldBlobs(): Promise<number> {
    const blobs = path.join(this.root, "blobs");
    const marker = path.join(blobs, ".sealed");
    if (await stat(marker).then(() => true, () => false)) return 0;
    // A store this process may not write (a serving replica's read-only mount) is not its to seal.
    if (await access(this.root, constants.W_OK).then(() => false, () => true)) return 0;
    let sealed = 0;
    const shards = await readdir(blobs, { withFileTypes: true }).catch(() => []);
    for (const shard of shards.filter((d) => d.isDirectory())) {
      for (const name of await readdir(path.join(blobs, shard.name))) {
        const file = path.join(blobs, shard.name, name);
        const { mode } = await stat(file);
        if (mode & 0o222) {
          await chmod(file, 0o444);
          sealed += 1;
        }
      }
    }
    await mkdir(blobs, { recursive: true });
    await writeFile(marker, "blobs stored before this file are read-only\n");
    return sealed;
  }

  async open(sha256: string): Promise<Readable> {
    return createReadStream(this.pathOf(sha256));
  }

  async localPath(sha256: string): Promise<string> {
    const p = this.pathOf(sha256);
    await stat(p);
    return p;
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.pathOf(sha256)).then(() => true, () => false);
  }

  private pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error("artifact address must be a lowercase hex SHA-256");
    return path.join(this.root, "blobs", sha256.slice(0, 2), sha256);
  }
}
