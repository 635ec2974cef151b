import { isIPv6 } from "node:net";
import type { Config } from "./config";

/**
 * Failed-authentication limiter: a client that presents too many wrong tokens is refused
 * (429 with Retry-After over HTTP, 4429 over WebSocket) before its next token is even looked
 * up. Tokens carry 256 random bits, so guessing one is hopeless anyway; this keeps a guesser
 * from turning every attempt into a database query, and makes the attempt visible.
 *
 * Counted per client address (an IPv6 client by its /64, which one host usually owns) in a
 * fixed window. Only tokens that were presented and not recognised count: a missing header is
 * not a guess. A token this process already knows to be valid (the token cache) still passes,
 * so colleagues behind the same NAT keep working while a guesser among them is blocked.
 *
 * Every process counts in memory, so a blocked client costs nothing; each wrong token is also
 * added to a count all processes on the database share (`sharedFailures`), and a process that
 * sees the shared count at the limit blocks the client too. Spreading guesses over N servers
 * therefore buys at most one more guess per server, not N times the limit. Only wrong tokens
 * reach the shared count: a request with a valid token never touches it.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxClients = 100_000,
    private readonly shared?: SharedFailures,
  ) {}

  /** Seconds until `address` may try again, or 0 when it is not blocked. */
  retryAfterSeconds(address: string | undefined, now = Date.now()): number {
    const w = this.windows.get(clientKey(address));
    if (!w) return 0;
    if (w.resetAt <= now) {
      this.windows.delete(clientKey(address));
      return 0;
    }
    return w.count >= this.maxFailures ? Math.max(1, Math.ceil((w.resetAt - now) / 1000)) : 0;
  }

  /**
   * Records a wrong token from `address`, here at once and then in the shared count, whose
   * total (all processes' guesses) this process adopts when it is higher than its own.
   */
  async fail(address: string | undefined, now = Date.now()): Promise<void> {
    const key = clientKey(address);
    const local = this.count(key, now);
    if (!this.shared) return;
    // Without the database the local count still holds; the request's own answer must not change.
    const counted = await this.shared(key, this.windowMs).catch(() => null);
    if (!counted) return;
    const { failures, resetInMs } = counted;
    if (failures > local.count) {
      local.count = failures;
      local.resetAt = now + resetInMs;
    }
  }

  private count(key: string, now: number): { count: number; resetAt: number } {
    const w = this.windows.get(key);
    if (w && w.resetAt > now) {
      w.count += 1;
      return w;
    }
    // Bounded memory under a flood from many addresses: drop the expired windows, then, if
    // still full, the oldest (Map keeps insertion order).
    if (this.windows.size >= this.maxClients) {
      for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
      while (this.windows.size >= this.maxClients) this.windows.delete(this.windows.keys().next().value!);
    }
    const fresh = { count: 1, resetAt: now + this.windowMs };
    this.windows.set(key, fresh);
    return fresh;
  }
}

/** Adds one wrong token to `client`'s shared count; answers the count and its window's time left. */
export type SharedFailures = (client: string, windowMs: number) => Promise<{ failures: number; resetInMs: number }>;

/**
 * The shared count in PostgreSQL (table auth_failures): one upsert per wrong token, which starts
 * a new window when the old one has ended. Rows of windows long over are swept now and then.
 */
export function sharedFailuresIn(db: { query(sql: string, params?: unknown[]): Promise<unknown> }): SharedFailures {
  let sweptAt = 0;
  return async (client, windowMs) => {
    const rows = (await db.query(
      `INSERT INTO auth_failures AS f (client, failures, window_end) VALUES ($1, 1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (client) DO UPDATE SET
         failures = CASE WHEN f.window_end <= now() THEN 1 ELSE f.failures + 1 END,
         window_end = CASE WHEN f.window_end <= now() THEN excluded.window_end ELSE f.window_end END
       RETURNING f.failures, GREATEST(0, EXTRACT(EPOCH FROM f.window_end - now()) * 1000)::float8 AS reset_in_ms`,
      [client, windowMs],
    )) as { failures: number; reset_in_ms: number }[];
    if (Date.now() - sweptAt > windowMs) {
      sweptAt = Date.now();
      await db.query("DELETE FROM auth_failures WHERE window_end < now()");
    }
    return { failures: rows[0].failures, resetInMs: rows[0].reset_in_ms };
  };
}

/** The key a client is counted under: its IPv4 address, or its IPv6 /64. */
export function clientKey(address: string | undefined): string {
  if (!address) return "unknown";
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (v4) return v4[1];
  if (!isIPv6(address)) return address;
  const [head] = address.split("::");
  const groups = address.includes("::") ? head.split(":").filter(Boolean) : address.split(":");
  return `${[...groups, "0", "0", "0", "0"].slice(0, 4).join(":")}::/64`;
}

const limiters = new WeakMap<object, AuthFailureLimiter>();

/** The one limiter of a process's services (shared by HTTP routes and the WebSocket). */
export function authLimiterOf(app: { config: Config; db: Parameters<typeof sharedFailuresIn>[0] }): AuthFailureLimiter {
  let limiter = limiters.get(app);
  if (!limiter) {
    limiter = new AuthFailureLimiter(app.config.auth.maxFailures, app.config.auth.failureWindowSeconds * 1000, undefined, sharedFailuresIn(app.db));
    limiters.set(app, limiter);
  }
  return limiter;
}
