import { unwrapResolverError } from "@apollo/server/errors";
import type { GraphQLFormattedError } from "graphql";
import { fromPgError, isDatabaseUnavailable, OuroError } from "../platform/errors";

// Codes of errors that are the client's own doing; their messages are safe to show.
const CLIENT_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  // Ouro's own client-facing codes (platform/errors.ts), when raised as plain GraphQL errors.
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "RATE_LIMITED",
  "UNAVAILABLE",
]);

/** The error the client should see for `error`, or null when it is our fault (INTERNAL). */
export function clientError(error: unknown): OuroError | null {
  const original = unwrapResolverError(error);
  if (original instanceof OuroError) return original;
  return fromPgError(original) ?? (isDatabaseUnavailable(original) ? databaseUnavailable() : null);
}

/** A full pool or a database that is restarting: the client should retry (503 over REST). */
export const databaseUnavailable = () => new OuroError("UNAVAILABLE", "the database is busy or unreachable; retry shortly");

/** A GraphQLError raised by graphql itself (coercion, limits), not wrapping a thrown error. */
function isRequestError(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === "GraphQLError" && !(e as { originalError?: unknown }).originalError;
}

/** True when the error is our fault: logged in full, shown to the client as INTERNAL. */
export function isInternal(error: unknown): boolean {
  if (clientError(error)) return false;
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  if (typeof code === "string" && CLIENT_CODES.has(code)) return false;
  return !isRequestError(unwrapResolverError(error));
}

/**
 * What leaves the server: a code, a message for a person, the location. Never a stack trace,
 * SQL or an internal message; those are logged with the request id instead.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const base = { locations: formatted.locations, path: formatted.path };
  const known = clientError(error);
  if (known) {
    return { ...base, message: known.message, extensions: { code: known.code, ...(known.details ? { details: known.details } : {}) } };
  }
  if (!isInternal(error)) {
    const code = formatted.extensions?.code;
    return { ...base, message: formatted.message, extensions: { code: typeof code === "string" && CLIENT_CODES.has(code) ? code : "BAD_USER_INPUT" } };
  }
  return { ...base, message: "Internal server error", extensions: { code: "INTERNAL" } };
}
