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

/** A body for a REST call: JSON (sent as application/json) or bytes (sent as they are). */
export type RestBody = { json: unknown } | { bytes: Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array>; contentType?: string };

export interface RestOptions {
  query?: Record<string, string | number | undefined | null>;
  body?: RestBody;
  /** Resend after network errors and transient errors; only for requests safe to repeat. Default false. */
  retry?: boolean;
  maxRetries?: number;
  signal?: AbortSignal;
  /** Per try, in ms; defaults to the client's timeoutMs. */
  timeoutMs?: number;
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

  /** The server's root (the GraphQL URL without `/graphql`), where the REST routes live. */
  get baseUrl(): string {
    return this.options.url.replace(/\/graphql\/?$/, "");
  }

  /**
   * A call to one of Ouro's REST routes (`/v1/...`), with the same token, timeout, retry and
   * error handling as GraphQL: errors come back as typed OuroApiErrors. Returns the JSON
   * answer, or the Response itself with `raw` (for downloads: the body is not read).
   */
  async rest<T>(method: "GET" | "POST", path: string, opts: RestOptions & { raw: true }): Promise<Response>;
  async rest<T>(method: "GET" | "POST", path: string, opts?: RestOptions & { raw?: false }): Promise<T>;
  async rest<T>(method: "GET" | "POST", path: string, opts: RestOptions & { raw?: boolean } = {}): Promise<T | Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    // A stream can be read once only: never resend it.
    const streaming = opts.body && "bytes" in opts.body && isReadableStream(opts.body.bytes);
    const maxRetries = opts.retry && !streaming ? (opts.maxRetries ?? this.options.maxRetries ?? 5) : 0;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendRest<T>(method, url.toString(), opts);
      } catch (err) {
        if (attempt >= maxRetries || !isRetryable(err) || opts.signal?.aborted) throw err;
        await sleep(backoffDelay(attempt, REQUEST_BACKOFF), opts.signal);
      }
    }
  }

  private async sendRest<T>(method: string, url: string, opts: RestOptions & { raw?: boolean }): Promise<T | Response> {
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.options.timeoutMs ?? 60_000);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${this.options.token}`, ...this.options.headers };
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal };
    if (opts.body && "json" in opts.body) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(opts.body.json);
    } else if (opts.body) {
      const bytes = opts.body.bytes;
      headers["content-type"] = opts.body.contentType ?? ((typeof Blob !== "undefined" && bytes instanceof Blob && bytes.type) || "application/octet-stream");
      init.body = bytes as RequestInit["body"];
      if (isReadableStream(bytes)) init.duplex = "half"; // required by fetch for a streamed request body
    }
    let res: Response;
    try {
      res = await this.fetchImpl(url, init);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new OuroNetworkError(`could not reach Ouro at ${url}: ${describe(err, timeout)}`, { cause: err });
    }
    if (res.ok && opts.raw) return res;
    const requestId = res.headers.get("x-request-id");
    const text = await res.text().catch((err: unknown) => {
      if (opts.signal?.aborted) throw err;
      throw new OuroNetworkError(`the connection to ${url} broke while reading the response: ${describe(err, timeout)}`, { status: res.status, cause: err });
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok && json !== undefined) return json as T;
    if (isRecord(json) && Array.isArray(json.errors) && json.errors.length) throw OuroApiError.fromEntries(json.errors as ServerErrorEntry[], { status: res.status, requestId });
    const type = res.headers.get("content-type") ?? "no content type";
    throw new OuroNetworkError(`${url} answered HTTP ${res.status} (${type}), not an Ouro response; is the URL right?`, {
      status: res.status,
      retryable: res.status === 502 || res.status === 503 || res.status === 504,
    });
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

function isReadableStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof ReadableStream !== "undefined" && value instanceof ReadableStream;
}

function describe(err: unknown, timeout: AbortSignal): string {
  if (timeout.aborted) return "timed out";
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : "";
    return `${err.message}${cause}`;
  }
  return String(err);
}
