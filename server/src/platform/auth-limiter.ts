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
 * The state is per process: N servers allow N times the limit, which is still a limit.
 */
export class AuthFailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly maxClients = 100_000,
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

  /** Records a wrong token from `address`. */
  fail(address: string | undefined, now = Date.now()): void {
    const key = clientKey(address);
    const w = this.windows.get(key);
    if (w && w.resetAt > now) {
      w.count += 1;
      return;
    }
    // Bounded memory under a flood from many addresses: drop the expired windows, then, if
    // still full, the oldest (Map keeps insertion order).
    if (this.windows.size >= this.maxClients) {
      for (const [k, v] of this.windows) if (v.resetAt <= now) this.windows.delete(k);
      while (this.windows.size >= this.maxClients) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }
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
export function authLimiterOf(app: { config: Config }): AuthFailureLimiter {
  let limiter = limiters.get(app);
  if (!limiter) {
    limiter = new AuthFailureLimiter(app.config.auth.maxFailures, app.config.auth.failureWindowSeconds * 1000);
    limiters.set(app, limiter);
  }
  return limiter;
}
