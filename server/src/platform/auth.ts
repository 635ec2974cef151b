import { createHash, randomBytes } from "node:crypto";

/** Who is calling: resolved from an API token on every request and WebSocket connection. */
export interface Viewer {
  userId: string;
  tokenId: string;
  isAdmin: boolean;
}

/** Recently authenticated tokens by hash (implemented in the users domain). */
export interface ViewerCache {
  get(hash: string): Viewer | null;
  set(hash: string, viewer: Viewer, expiresAt: Date | null): void;
  forgetToken(tokenId: string): void;
}

const TOKEN_PREFIX = "ouro_";

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Extracts a token from `Bearer <token>`; anything else is no token at all. */
export function tokenFromHeader(header: string | undefined | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S{10,200})$/i.exec(header.trim());
  return m ? m[1] : null;
}
