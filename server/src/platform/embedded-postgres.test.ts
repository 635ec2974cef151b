import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { createLogger } from "./logger";

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A connected client that records every error event instead of throwing it. */
async function session(url: string) {
  const errors: Error[] = [];
  const client = new pg.Client({ connectionString: url });
  client.on("error", (err) => errors.push(err));
  await client.connect();
  return { client, errors };
}

describe("embedded PostgreSQL stop", () => {
  const log = createLogger("silent");
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ouro-embedded-"));
    port = await freePort();
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // `ouro start` exited 1 on a clean SIGTERM when the database was stopped while a pool's
  // connections were still closing: PostgreSQL sent them a FATAL the pool no longer listened for.
  it("lets a session that is still at work finish and leave, instead of cutting it off", async () => {
    const db = await startEmbeddedPostgres(dir, port, log);
    const { client, errors } = await session(db.url);
    const finishing = client.query("SELECT pg_sleep(0.5), 'done' AS outcome").then(async (res) => {
      await client.end();
      return res.rows[0].outcome as string;
    });
    await db.stop();
    await expect(finishing).resolves.toBe("done");
    expect(errors).toEqual([]);
  }, 60_000);

  it("starts again on the same data directory, and ends a session that never leaves rather than wait for it", async () => {
    const db = await startEmbeddedPostgres(dir, port, log);
    const { client, errors } = await session(db.url);
    const endless = client.query("SELECT pg_sleep(600)");
    endless.catch(() => undefined);
    await db.stop();
    await expect(endless).rejects.toMatchObject({ code: "57P01" }); // terminating connection due to administrator command
    expect(errors.length).toBeLessThanOrEqual(1);
    await client.end().catch(() => undefined);
  }, 60_000);

  it("says why PostgreSQL did not start when its port is taken", async () => {
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(port, "127.0.0.1", resolve));
    try {
      const failure = await startEmbeddedPostgres(dir, port, log).then(() => null, (err: unknown) => err);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(new RegExp(`did not start on port ${port}[^]*could not bind`));
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 60_000);
});
