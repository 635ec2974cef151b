import { ENTITIES } from "../entities";
import { LocalArtifactStore } from "../platform/artifacts";
import { Bus } from "../platform/bus";
import type { Config } from "../platform/config";
import { openDatabase } from "../platform/db";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../platform/embedded-postgres";
import type { AppServices } from "../platform/graphql/context";
import { LiveHub } from "../platform/live";
import type { Logger } from "../platform/logger";
import { migrate } from "../platform/migrate";
import { TOKEN_REVOKED_TOPIC, TokenCache } from "../domains/users/token.service";

export interface Started extends AppServices {
  databaseUrl: string;
  close(): Promise<void>;
}

/** Resolves the database (embedded unless DATABASE_URL is set). */
export async function resolveDatabase(config: Config, log: Logger): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPgPort, log);
  return { url: embedded.url, embedded };
}

/** Connects to a migrated database and wires what every process shares. */
export async function startServices(config: Config, log: Logger, role: string, opts: { migrate: boolean }): Promise<Started> {
  const { url, embedded } = await resolveDatabase(config, log);
  try {
    if (opts.migrate) await migrate(url, log);
    const db = await openDatabase(url, ENTITIES, config.dbPoolSize, `ouro-${role}`, config.dbConnectTimeoutMs);
    const bus = new Bus(url, log);
    await bus.start();
    const tokens = new TokenCache();
    bus.subscribe(TOKEN_REVOKED_TOPIC, (msg) => {
      const tokenId = (msg.data as { tokenId?: string } | undefined)?.tokenId;
      if (tokenId) tokens.forgetToken(tokenId);
    });
    const artifacts = new LocalArtifactStore(config.artifactDir);
    artifacts.sealOldBlobs().then(
      (n) => n > 0 && log.info({ blobs: n }, "made blobs stored by an older version read-only"),
      (err: unknown) => log.warn({ err: (err as Error).message }, "could not make older blobs read-only"),
    );
    return {
      tokens,
      config,
      log,
      db,
      bus,
      live: new LiveHub(bus),
      artifacts,
      databaseUrl: url,
      async close() {
        await bus.stop();
        await db.destroy();
        await embedded?.stop();
      },
    };
  } catch (err) {
    await embedded?.stop(); // a failed start leaves no database running
    throw err;
  }
}
