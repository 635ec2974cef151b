import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type DocumentNode } from "graphql";
import { backoffDelay, REQUEST_BACKOFF, sleep } from "./backoff";
import { isRecord, isRetryable, OuroApiError, OuroNetworkError, type ServerErrorEntry } from "./errors";

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface RequestOptions {
  /**
   * Send again on network errors and transient server errors (UNAVAILABLE, RATE_LIMITED,
   * INTERNAL). Only for requests that are safe to repeat: queries, and mutations the server
   * makes idempotent. Defaults to true for queries, false for mutations.
   */
  retry?: boolean;
  /** Tries after the first, when retrying. */
  maxRetries?: number;
  signal?: AbortSignal;
  /** Called before each retry (for logging or tests). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

export interface HttpTransportOptions {
  url: string;
  token: string;
  fetch?: FetchLike;
  /** Per request (each try), in ms. Default 60 s. */
  timeoutMs?: number;
  /** Default for RequestOptions.maxRetries. Default 5. */
  maxRetries?: number;
  headers?: Record<string, string>;
}

const printed = new WeakMap<DocumentNode, string>();

/** The query text of a document, printed once. */
export function queryText(document: DocumentNode): string {
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

function isMutation(document: DocumentNode): boolean {
  return document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation === "mutation");
}

/** GraphQL over HTTP POST (JSON), typed by the generated documents. Works with any WHATWG fetch. */
export class HttpTransport {
  private readonly fetchImpl: FetchLike;

  constructor(private readonly options: HttpTransportOptions) {
    const impl = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!impl) throw new TypeError("no fetch available: pass `fetch` to OuroClient");
    this.fetchImpl = options.fetch ? impl : (input, init) => globalThis.fetch(input, init);
  }

  async request<TResult, TVariables extends Record<string, unknown>>(
    document: TypedDocumentNode<TResult, TVariables>,
    variables: TVariables,
    opts: RequestOptions = {},
  ): Promise<TResult> {
    const retry = opts.retry ?? !isMutation(document);
    const maxRetries = retry ? (opts.maxRetries ?? this.options.maxRetries ?? 5) : 0;
    const body = JSON.stringify({ query: queryText(document), variables });
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<TResult>(body, opts.signal);
      } catch (err) {
        if (attempt >= maxRetries || !isRetryable(err) || opts.signal?.aborted) throw err;
        const delay = backoffDelay(attempt, REQUEST_BACKOFF);
        opts.onRetry?.(err, attempt + 1, delay);
        await sleep(delay, opts.signal);
      }
    }
  }

  private async send<TResult>(body: string, signal?: AbortSignal): Promise<TResult> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let json: unknown;
    try {
      res = await this.fetchImpl(this.options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          authorization: `Bearer ${this.options.token}`,
          ...this.options.headers,
        },
        body,
        signal: combined,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new OuroNetworkError(`could not reach Ouro at ${this.options.url}: ${describe(err, timeout)}`, { cause: err });
    }
    const requestId = res.headers.get("x-request-id");
    const text = await res.text().catch((err: unknown) => {
      if (signal?.aborted) throw err;
      throw new OuroNetworkError(`the connection to ${this.options.url} broke while reading the response: ${describe(err, timeout)}`, { status: res.status, cause: err });
    });
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!isRecord(json) || (!("data" in json) && !("errors" in json))) {
      const type = res.headers.get("content-type") ?? "no content type";
      throw new OuroNetworkError(
        `${this.options.url} answered HTTP ${res.status} (${type}), not a GraphQL response; is it Ouro's /graphql endpoint?`,
        { status: res.status, retryable: res.status === 502 || res.status === 503 || res.status === 504 },
      );
    }
    const errors = Array.isArray(json.errors) ? (json.errors as ServerErrorEntry[]) : [];
    if (errors.length) throw OuroApiError.fromEntries(errors, { status: res.status, requestId });
    if (!isRecord(json.data)) throw new OuroNetworkError(`${this.options.url} answered HTTP ${res.status} without data or errors`, { status: res.status, retryable: false });
    return json.data as TResult;
  }
}

function describe(err: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return "timed out";
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
