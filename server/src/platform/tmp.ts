import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";

/**
 * Runs `fn` with a fresh directory under <dataDir>/tmp and removes it afterwards, whatever
 * happens: a failed or cancelled job leaves no half-written files behind.
 */
export async function withTempDir<T>(dataDir: string, prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const root = path.join(dataDir, "tmp");
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(path.join(root, prefix));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
