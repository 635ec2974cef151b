import type { Viewer } from "../../platform/auth";
import { sql } from "../../platform/db";
import { notFound } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { TOKEN_REVOKED_TOPIC } from "../users/token.service";
import { FEATURE_SET_DELETED_TOPIC } from "./feature-set.delete";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Who may read which feature set's online values, remembered for a few seconds. A serving
 * client asks for the same feature set thousands of times a second; checking its project
 * membership each time cost two database round trips per lookup (the feature set, then the
 * membership), as much as the lookup itself. Like the token cache (users/token.service.ts),
 * entries are per token, live `ttlMs`, and a revoked token's entries go at once on every
 * process (TOKEN_REVOKED_TOPIC on the bus). A membership change reaches a cached entry within
 * `ttlMs` at most: the same staleness the token cache already allows for a token's user.
 * Only successful checks are kept, so a miss (NOT_FOUND) is re-checked every time. A deleted
 * feature set's entries go at once on every process too (FEATURE_SET_DELETED_TOPIC).
 */
export class FeatureAccessCache {
  private readonly entries = new Map<string, { tokenId: string; until: number }>();
  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 10_000) {}

  has(viewer: Viewer, featureSetId: string): boolean {
    const key = `${viewer.tokenId}:${featureSetId}`;
    const e = this.entries.get(key);
    if (!e) return false;
    if (e.until < Date.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  remember(viewer: Viewer, featureSetId: string): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(`${viewer.tokenId}:${featureSetId}`, { tokenId: viewer.tokenId, until: Date.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  forgetFeatureSet(featureSetId: string): void {
    for (const key of this.entries.keys()) if (key.endsWith(`:${featureSetId}`)) this.entries.delete(key);
  }

  forgetToken(tokenId: string): void {
    for (const [key, e] of this.entries) if (e.tokenId === tokenId) this.entries.delete(key);
  }
}

// One cache per running app (a test process may run several), wired to that app's bus.
const caches = new WeakMap<AppServices, FeatureAccessCache>();

export function featureAccessCache(app: AppServices): FeatureAccessCache {
  let cache = caches.get(app);
  if (!cache) {
    const created = new FeatureAccessCache();
    app.bus.subscribe(TOKEN_REVOKED_TOPIC, (msg) => {
      const tokenId = (msg.data as { tokenId?: string } | undefined)?.tokenId;
      if (tokenId) created.forgetToken(tokenId);
    });
    app.bus.subscribe(FEATURE_SET_DELETED_TOPIC, (msg) => {
      const featureSetId = (msg.data as { featureSetId?: string } | undefined)?.featureSetId;
      if (featureSetId) created.forgetFeatureSet(featureSetId);
    });
    // After a lost bus connection a revocation may have been missed: start over.
    app.bus.onResync(() => created.clear());
    caches.set(app, created);
    cache = created;
  }
  return cache;
}

/**
 * The viewer may read the feature set's online values: same rule as accessFeatureSet (any role
 * in its project, or an instance admin; otherwise NOT_FOUND, as for an id that does not
 * exist), in one query instead of two, and none while cached.
 */
export async function requireOnlineAccess(app: AppServices, viewer: Viewer, featureSetId: string): Promise<void> {
  const cache = featureAccessCache(app);
  if (cache.has(viewer, featureSetId)) return;
  if (!UUID.test(featureSetId)) throw notFound("feature set", featureSetId);
  const rows = await sql<{ member: boolean }>(
    app.db,
    `SELECT EXISTS (SELECT 1 FROM memberships m WHERE m.project_id = f.project_id AND m.user_id = $2) AS member
     FROM feature_sets f WHERE f.id = $1`,
    [featureSetId, viewer.userId],
  );
  if (rows.length === 0 || !(viewer.isAdmin || rows[0]!.member)) throw notFound("feature set", featureSetId);
  cache.remember(viewer, featureSetId);
}
