import { Bus } from "../../platform/bus";
import { hashToken, newToken, type Viewer, type ViewerCache } from "../../platform/auth";
import { sql, type Db } from "../../platform/db";
import { badInput, notFound } from "../../platform/errors";
import { ApiTokenEntity } from "./api-token.entity";
import { UserEntity } from "./user.entity";

export const TOKEN_REVOKED_TOPIC = "token-revoked";

/**
 * Recently authenticated tokens, so a busy client (a training loop logging metrics) costs no
 * lookup per request. Entries live a few seconds; a revocation removes them on every process
 * at once (TOKEN_REVOKED_TOPIC), and expiry is checked on every hit.
 */
export class TokenCache implements ViewerCache {
  private readonly entries = new Map<string, { viewer: Viewer; until: number; expiresAt: number | null }>();
  constructor(private readonly ttlMs = 10_000, private readonly maxEntries = 10_000) {}

  get(hash: string): Viewer | null {
    const e = this.entries.get(hash);
    if (!e) return null;
    const now = Date.now();
    if (e.until < now || (e.expiresAt !== null && e.expiresAt <= now)) {
      this.entries.delete(hash);
      return null;
    }
    return e.viewer;
  }

  set(hash: string, viewer: Viewer, expiresAt: Date | null): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(hash, { viewer, until: Date.now() + this.ttlMs, expiresAt: expiresAt?.getTime() ?? null });
  }

  forgetToken(tokenId: string): void {
    for (const [hash, e] of this.entries) if (e.viewer.tokenId === tokenId) this.entries.delete(hash);
  }
}

/** The viewer a token stands for, or null if it is unknown, revoked or expired. */
export async function authenticate(db: Db, token: string, cache?: ViewerCache): Promise<Viewer | null> {
  const hash = hashToken(token);
  const cached = cache?.get(hash);
  if (cached) return cached;
  const viewer = await lookupToken(db, hash);
  if (viewer && cache) cache.set(hash, viewer.viewer, viewer.expiresAt);
  return viewer?.viewer ?? null;
}

async function lookupToken(db: Db, hash: string): Promise<{ viewer: Viewer; expiresAt: Date | null } | null> {
  const rows = await sql<{ token_id: string; user_id: string; is_admin: boolean; stale: boolean; expires_at: Date | null }>(
    db,
    `SELECT t.id AS token_id, u.id AS user_id, u.is_admin, t.expires_at,
            (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS stale
     FROM api_tokens t JOIN users u ON u.id = t.user_id
     WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hash],
  );
  const row = rows[0];
  if (!row) return null;
  // last_used_at is informative; one write a minute per token is plenty.
  if (row.stale) await db.query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1", [row.token_id]);
  return { viewer: { userId: row.user_id, tokenId: row.token_id, isAdmin: row.is_admin }, expiresAt: row.expires_at };
}

export interface CreatedToken {
  token: string;
  entity: ApiTokenEntity;
}

/** The plain token is returned here and never stored: only its hash is. */
export async function createToken(db: Db, userId: string, name: string, expiresInDays?: number | null): Promise<CreatedToken> {
  if (!name.trim() || name.length > 100) throw badInput("token name must be 1 to 100 characters");
  if (expiresInDays != null && (!Number.isInteger(expiresInDays) || expiresInDays < 1 || expiresInDays > 3650)) {
    throw badInput("expiresInDays must be a whole number from 1 to 3650");
  }
  const token = newToken();
  const entity = await db.getRepository(ApiTokenEntity).save({
    userId,
    name: name.trim(),
    tokenHash: hashToken(token),
    prefix: token.slice(0, 9),
    expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 86_400_000) : null,
    lastUsedAt: null,
    revokedAt: null,
  });
  return { token, entity };
}

/** Revokes a token of `viewer` (admins may revoke anyone's); open subscriptions close too. */
export async function revokeToken(db: Db, viewer: Viewer, tokenId: string): Promise<ApiTokenEntity> {
  return db.transaction(async (tx) => {
    const rows = await sql<{ id: string }>(
      tx,
      `UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
       WHERE id = $1 AND (user_id = $2 OR $3) RETURNING id`,
      [tokenId, viewer.userId, viewer.isAdmin],
    );
    if (rows.length === 0) throw notFound("token", tokenId);
    await Bus.publish(tx, TOKEN_REVOKED_TOPIC, { tokenId });
    return tx.findOneByOrFail(ApiTokenEntity, { id: tokenId });
  });
}

export async function listTokens(db: Db, userId: string): Promise<ApiTokenEntity[]> {
  return db.getRepository(ApiTokenEntity).find({ where: { userId }, order: { createdAt: "DESC" } });
}

export async function getUser(db: Db, id: string): Promise<UserEntity> {
  const user = await db.getRepository(UserEntity).findOneBy({ id });
  if (!user) throw notFound("user", id);
  return user;
}

export async function createUser(db: Db, email: string, name: string, isAdmin = false): Promise<UserEntity> {
  const normalized = email.trim().toLowerCase();
  if (!/^[^@\s]{1,64}@[^@\s]{1,255}$/.test(normalized)) throw badInput("email is not a valid address");
  if (!name.trim() || name.length > 200) throw badInput("name must be 1 to 200 characters");
  return db.getRepository(UserEntity).save({ email: normalized, name: name.trim(), isAdmin });
}

export async function findUserByEmail(db: Db, email: string): Promise<UserEntity | null> {
  return db.getRepository(UserEntity).findOneBy({ email: email.trim().toLowerCase() });
}

/**
 * First start: an instance with no users gets an administrator and a token, printed once.
 * Runs under an advisory lock so two servers starting together create one admin.
 */
export async function bootstrapAdmin(db: Db): Promise<CreatedToken | null> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(7262001338)");
    const [{ count }] = await tx.query("SELECT count(*)::int AS count FROM users");
    if (count > 0) return null;
    const user = await tx.getRepository(UserEntity).save({ email: "admin@localhost", name: "Administrator", isAdmin: true });
    const token = newToken();
    const entity = await tx.getRepository(ApiTokenEntity).save({
      userId: user.id,
      name: "first admin token",
      tokenHash: hashToken(token),
      prefix: token.slice(0, 9),
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });
    return { token, entity };
  });
}
