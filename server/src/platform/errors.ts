export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "INTERNAL";

/**
 * An error a client may see: a stable code and a message written for a person. Anything
 * else that escapes a resolver is reported as INTERNAL with only the request id.
 */
export class OuroError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "OuroError";
  }
}

export const notFound = (what: string, id?: string) =>
  new OuroError("NOT_FOUND", id ? `${what} ${id} not found` : `${what} not found`);
export const badInput = (message: string, details?: Record<string, unknown>) =>
  new OuroError("BAD_USER_INPUT", message, details);
export const forbidden = (message = "your role does not allow this") => new OuroError("FORBIDDEN", message);
export const unauthenticated = () =>
  new OuroError("UNAUTHENTICATED", "a valid API token is required (Authorization: Bearer <token>)");

export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** Postgres error codes worth translating instead of hiding. */
export function fromPgError(err: unknown): OuroError | undefined {
  const code = (err as { code?: string } | null)?.code;
  if (code === "23505") return new OuroError("CONFLICT", "an object with the same unique name or key already exists");
  if (code === "22P02") return badInput("an id or value has an invalid format");
  return undefined;
}

// Connection-level failures are the client's to retry, not bugs: every pooled connection
// busy (pg-pool's timeout), PostgreSQL shutting down or restarting (class 57P), the
// connection lost (class 08) or refused. The request can succeed once the database is
// back; whether repeating it is safe is the client's call (the SDK repeats queries and the
// idempotent writes, such as logMetrics, only).
const UNAVAILABLE_SQLSTATES = /^(08...|57P0[1-3]|53300)$/;
const UNAVAILABLE_MESSAGES = /^(timeout exceeded when trying to connect|Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|terminating connection due to administrator command)$/;

/**
 * True when `err` says the database could not be reached or had no connection to give. Not
 * part of fromPgError: job and pipeline code retries these itself; only what answers a
 * client (app/errors.ts, the HTTP error handler) turns them into UNAVAILABLE.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; errors?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  if (typeof e.code === "string" && (UNAVAILABLE_SQLSTATES.test(e.code) || ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(e.code))) return true;
  if (typeof e.message === "string" && UNAVAILABLE_MESSAGES.test(e.message)) return true;
  // Node reports a refused dual-stack connect as an AggregateError of the tries.
  return Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isDatabaseUnavailable);
}
