/**
 * Every error the SDK throws is an OuroError. Two families, told apart with instanceof:
 * - OuroApiError: the server answered and refused (a code, a message for a person, the
 *   request id to quote when reporting it).
 * - OuroNetworkError: no usable answer (connection refused, reset, timeout, a proxy's HTML
 *   page, a WebSocket that closed).
 * A job that ended badly while you waited for it is an OuroJobError.
 */

/** Codes the server uses today; others (GraphQL validation codes, later ones) pass through as strings. */
export type OuroErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "PAYLOAD_TOO_LARGE"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "INTERNAL"
  | "GRAPHQL_VALIDATION_FAILED"
  | "GRAPHQL_PARSE_FAILED"
  | (string & {});

/** Codes worth retrying for an idempotent request: the same request may succeed later. */
const TRANSIENT_CODES = new Set<string>(["UNAVAILABLE", "RATE_LIMITED", "INTERNAL"]);

export abstract class OuroError extends Error {
  /** True when sending the same idempotent request again may succeed. */
  abstract readonly retryable: boolean;
}

/** One error as the server formats it (GraphQL's `errors[]` entries). */
export interface ServerErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: unknown; requestId?: unknown; details?: unknown; [key: string]: unknown };
}

export class OuroApiError extends OuroError {
  override readonly name: string = "OuroApiError";
  readonly code: OuroErrorCode;
  /** The server's request id (from `extensions.requestId` or the `x-request-id` header); quote it in bug reports. */
  readonly requestId: string | null;
  /** HTTP status, when the error came over HTTP. */
  readonly status: number | null;
  /** Structured details some errors carry, e.g. `{ index, field }` for a bad metric point. */
  readonly details: Record<string, unknown> | null;
  /** Path of the field that failed, when the server gave one. */
  readonly path: ReadonlyArray<string | number> | null;
  /** Every error of the response (this error describes the first). */
  readonly errors: readonly ServerErrorEntry[];

  constructor(init: {
    code: OuroErrorCode;
    message: string;
    requestId?: string | null;
    status?: number | null;
    details?: Record<string, unknown> | null;
    path?: ReadonlyArray<string | number> | null;
    errors?: readonly ServerErrorEntry[];
  }) {
    super(init.message);
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.status = init.status ?? null;
    this.details = init.details ?? null;
    this.path = init.path ?? null;
    this.errors = init.errors ?? [];
  }

  get retryable(): boolean {
    return TRANSIENT_CODES.has(this.code);
  }

  /** The first error of a GraphQL response, typed. */
  static fromEntries(errors: readonly ServerErrorEntry[], fallback: { status?: number | null; requestId?: string | null } = {}): OuroApiError {
    const first = errors[0] ?? { message: "unknown error" };
    const ext = first.extensions ?? {};
    const code = typeof ext.code === "string" ? ext.code : codeForStatus(fallback.status);
    const requestId = typeof ext.requestId === "string" ? ext.requestId : (fallback.requestId ?? null);
    const details = isRecord(ext.details) ? ext.details : null;
    const message = errors.length > 1 ? `${first.message} (and ${errors.length - 1} more)` : first.message;
    return apiError({ code, message, requestId, status: fallback.status ?? null, details, path: first.path ?? null, errors });
  }
}

type ApiErrorInit = ConstructorParameters<typeof OuroApiError>[0];

/**
 * The codes a caller most often handles get their own subclasses of OuroApiError, so that
 * `catch (e) { if (e instanceof OuroNotFoundError) ... }` reads like what it means.
 * `instanceof OuroApiError` and `code` keep working for all of them.
 */
export class OuroAuthError extends OuroApiError {
  /** UNAUTHENTICATED: no token, a wrong, expired or revoked one. */
  override readonly name: string = "OuroAuthError";
}
export class OuroForbiddenError extends OuroApiError {
  /** FORBIDDEN: the token is fine but its user's role in the project is too low. */
  override readonly name: string = "OuroForbiddenError";
}
export class OuroNotFoundError extends OuroApiError {
  /** NOT_FOUND: the object does not exist, or belongs to a project the caller is not a member of. */
  override readonly name: string = "OuroNotFoundError";
}
export class OuroInputError extends OuroApiError {
  /** BAD_USER_INPUT: the request is malformed; `details` often names the field (e.g. `{ fields: [{ row, field, reason }] }`). */
  override readonly name: string = "OuroInputError";
}
export class OuroConflictError extends OuroApiError {
  /** CONFLICT: a taken name, a param logged twice with different values, a finished run... */
  override readonly name: string = "OuroConflictError";
}

/** An OuroApiError of the subclass that matches its code. */
export function apiError(init: ApiErrorInit): OuroApiError {
  switch (init.code) {
    case "UNAUTHENTICATED":
      return new OuroAuthError(init);
    case "FORBIDDEN":
      return new OuroForbiddenError(init);
    case "NOT_FOUND":
      return new OuroNotFoundError(init);
    case "BAD_USER_INPUT":
      return new OuroInputError(init);
    case "CONFLICT":
      return new OuroConflictError(init);
    default:
      return new OuroApiError(init);
  }
}

export class OuroNetworkError extends OuroError {
  override readonly name = "OuroNetworkError";
  /** HTTP status when a response came but was not GraphQL (e.g. a proxy's 502 page). */
  readonly status: number | null;
  /** WebSocket close code, for subscriptions. */
  readonly closeCode: number | null;
  readonly retryable: boolean;

  constructor(message: string, init: { status?: number | null; closeCode?: number | null; retryable?: boolean; cause?: unknown } = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status ?? null;
    this.closeCode = init.closeCode ?? null;
    this.retryable = init.retryable ?? true;
  }
}

/** A job you waited for ended as `failed` or `cancelled`. `job` is its final state. */
export class OuroJobError<TJob extends { id: string; status: string; error: string | null } = { id: string; status: string; error: string | null }> extends OuroError {
  override readonly name = "OuroJobError";
  readonly retryable = false;
  constructor(readonly job: TJob) {
    super(`job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ""}`);
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof OuroError && err.retryable;
}

function codeForStatus(status: number | null | undefined): OuroErrorCode {
  switch (status) {
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 413:
      return "PAYLOAD_TOO_LARGE";
    case 429:
      return "RATE_LIMITED";
    case 503:
      return "UNAVAILABLE";
    default:
      return status && status >= 500 ? "INTERNAL" : "BAD_USER_INPUT";
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
