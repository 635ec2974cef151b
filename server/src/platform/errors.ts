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
