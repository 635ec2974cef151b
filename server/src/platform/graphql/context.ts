import type { ArtifactStore } from "../artifacts";
import type { Viewer, ViewerCache } from "../auth";
import type { Bus } from "../bus";
import type { Config } from "../config";
import type { Db } from "../db";
import { unauthenticated } from "../errors";
import type { LiveHub } from "../live";
import type { Logger } from "../logger";

/** What every process shares: handed to resolvers through the context. */
export interface AppServices {
  config: Config;
  /** Recently checked API tokens (see the users domain); forget one when it is revoked. */
  tokens: ViewerCache;
  db: Db;
  bus: Bus;
  live: LiveHub;
  artifacts: ArtifactStore;
  log: Logger;
  /** For components that keep connections of their own (e.g. the prediction log's COPY writer). */
  databaseUrl: string;
}

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  app: AppServices;
}

export function viewerOf(ctx: Context): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}
